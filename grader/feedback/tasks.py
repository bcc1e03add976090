"""The GPU queue's task: thin, takes an ID, calls one service."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from feedback.engines import EngineError
from grader.feedback.services import feedback_generate, feedback_mark_failed

logger = logging.getLogger(__name__)
MAX_ENGINE_RETRIES = 3


@shared_task(
    bind=True, name="feedback.explain_submission", acks_late=True, max_retries=MAX_ENGINE_RETRIES
)
def explain_submission_task(self: Any, submission_id: int) -> None:
    try:
        feedback_generate(submission_id=submission_id)
    except EngineError as exc:
        # No model, GPU or server: retry with backoff, then record why; grading is untouched.
        if self.request.retries < MAX_ENGINE_RETRIES:
            raise self.retry(countdown=30 * 2**self.request.retries, exc=exc) from exc
        feedback_mark_failed(submission_id=submission_id, error=str(exc))
    except Exception as exc:
        logger.exception("feedback for submission %s crashed", submission_id)
        feedback_mark_failed(submission_id=submission_id, error=f"{type(exc).__name__}: {exc}")
