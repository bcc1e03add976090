"""Periodic operations tasks (scheduled by Celery beat, see settings CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from grader.ops.sweeper import submissions_sweep


@shared_task(name="ops.sweep", ignore_result=True)
def sweep_task() -> dict[str, int]:
    from grader.feedback.services import feedback_sweep

    report = submissions_sweep()
    return {
        "resent": len(report.resent),
        "recovered": len(report.recovered),
        "failed": len(report.failed),
        "feedback_resent": len(feedback_sweep()),
    }
