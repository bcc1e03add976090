"""Periodic operations tasks (scheduled by Celery beat, see settings CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from grader.ops.sweeper import submissions_sweep


@shared_task(name="ops.sweep", ignore_result=True)
def sweep_task() -> dict[str, int]:
    from grader.feedback.services import feedback_sweep
    from grader.grading.services import reference_checks_sweep
    from grader.lms.lti.passback import lti_score_posts_sweep
    from grader.lms.release import results_release_sweep
    from grader.lms.webhooks import webhook_deliveries_sweep

    report = submissions_sweep()
    return {
        "resent": len(report.resent),
        "recovered": len(report.recovered),
        "failed": len(report.failed),
        "feedback_resent": len(feedback_sweep()),
        "reference_checks_resent": len(reference_checks_sweep()),
        # Results withheld until a due date (each student's) are released by the clock: here,
        # not on a page view, so the LMS gets the full score even if nobody looks.
        "results_released": len(results_release_sweep()),
        "webhooks_resent": len(webhook_deliveries_sweep()),
        "lti_scores_resent": len(lti_score_posts_sweep()),
    }
