from __future__ import annotations

from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "grader.lms.lti"
    label = "lti"
    verbose_name = "LTI 1.3"
