"""Celery tasks: thin wrappers that take IDs and call one service."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from grader.grading.services import (
    submission_grade,
    submission_mark_failed,
    submission_requeue,
)
from sandbox.types import SandboxError

logger = logging.getLogger(__name__)
MAX_INFRA_RETRIES = 2


@shared_task(
    bind=True, name="grading.grade_submission", acks_late=True, max_retries=MAX_INFRA_RETRIES
)
def grade_submission_task(self: Any, submission_id: int) -> None:
    try:
        submission_grade(submission_id=submission_id)
    except SoftTimeLimitExceeded:
        submission_mark_failed(
            submission_id=submission_id, error="grading took longer than GRADING_TIME_LIMIT"
        )
    except SandboxError as exc:
        # Infrastructure, not the student: put the row back and try again, then give up visibly.
        logger.warning("sandbox error on submission %s: %s", submission_id, exc)
        if self.request.retries < MAX_INFRA_RETRIES:
            submission_requeue(submission_id=submission_id)
            raise self.retry(countdown=2**self.request.retries, exc=exc) from exc
        submission_mark_failed(submission_id=submission_id, error=f"sandbox error: {exc}")
    except Exception as exc:
        logger.exception("grading submission %s crashed", submission_id)
        submission_mark_failed(submission_id=submission_id, error=f"{type(exc).__name__}: {exc}")
