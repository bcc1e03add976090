"""The product's REST API (students submit and read results; staff list and redeliver), at /api/.

Not an LMS integration, so not in grader.lms: it has no models of its own (API tokens are
grader.lms.models.ApiToken, next to the webhook secrets), hence no AppConfig.
"""
