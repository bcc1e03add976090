"""Celery tasks: thin wrappers that take IDs and call one service.

One task, two queues: uploads go to ``grading`` (interactive), regrades and imports to ``batch``
(``enqueue_grading(id, queue="batch")``), so a regrade of a whole course never delays a
student's upload. A student's submissions beyond GRADING_MAX_RUNNING_PER_STUDENT are deferred
at the claim and sent again as hers finish (``submission_wake_deferred``). Time limits come
from settings (GRADING_TIME_LIMIT; they nest inside the broker's visibility timeout).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from grader.grading.services import (
    assignment_reference_check,
    assignment_reference_mark_failed,
    submission_grade,
    submission_mark_failed,
    submission_requeue,
    submission_wake_deferred,
)
from sandbox.types import SandboxError

logger = logging.getLogger(__name__)
MAX_INFRA_RETRIES = 2


def enqueue_grading(submission_id: int, *, queue: str = "grading") -> bool:
    """Send the grading message; never raise. The row is already committed as QUEUED, so if the
    broker is down the periodic sweeper sends it again later: nothing is lost, the upload does
    not fail. Returns whether the broker took the message."""
    try:
        grade_submission_task.apply_async(
            (submission_id,), queue=queue, retry=True, retry_policy={"max_retries": 2}
        )
    except Exception:
        logger.warning(
            "broker unavailable: submission %s stays QUEUED for the sweeper",
            submission_id,
            exc_info=True,
        )
        return False
    return True


@shared_task(
    bind=True, name="grading.grade_submission", acks_late=True, max_retries=MAX_INFRA_RETRIES
)
def grade_submission_task(self: Any, submission_id: int) -> None:
    try:
        _grade(self, submission_id)
    finally:
        # The student's next deferred submission (GRADING_MAX_RUNNING_PER_STUDENT) may start
        # now; this only sends messages, and the sweeper covers it if the database is down.
        try:
            submission_wake_deferred(submission_id=submission_id)
        except (OperationalError, InterfaceError):
            logger.warning("could not wake the deferred submissions after %s", submission_id)


def _grade(self: Any, submission_id: int) -> None:
    try:
        submission_grade(submission_id=submission_id)
    except SoftTimeLimitExceeded:
        submission_mark_failed(
            submission_id=submission_id, error="grading took longer than GRADING_TIME_LIMIT"
        )
    except (OperationalError, InterfaceError) as exc:
        # The database dropped our connection (restart, failover, pg_terminate_backend). Open a
        # fresh one, give the row back and retry; if even that fails the row stays RUNNING and
        # the sweeper recovers it after the hard time limit.
        logger.warning("database error on submission %s: %s", submission_id, exc)
        connection.close()
        close_old_connections()
        try:
            submission_requeue(submission_id=submission_id)
        except (OperationalError, InterfaceError):
            logger.warning("database still unavailable; leaving %s to the sweeper", submission_id)
            connection.close()
            return
        if self.request.retries < MAX_INFRA_RETRIES:
            raise self.retry(countdown=1 + 2**self.request.retries, exc=exc) from exc
        # Out of retries: the row is QUEUED again and the sweeper re-sends it later.
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


def enqueue_reference_check(assignment_id: int, package_sha256: str) -> bool:
    """Send the reference-check message; never raise (the sweeper re-sends a lost one)."""
    try:
        check_reference_task.apply_async(
            (assignment_id, package_sha256), retry=True, retry_policy={"max_retries": 2}
        )
    except Exception:
        logger.warning(
            "broker unavailable: reference check of assignment %s waits for the sweeper",
            assignment_id,
            exc_info=True,
        )
        return False
    return True


@shared_task(
    bind=True, name="grading.check_reference", acks_late=True, max_retries=MAX_INFRA_RETRIES
)
def check_reference_task(self: Any, assignment_id: int, package_sha256: str) -> None:
    """Grade a package's reference solution twice; runs on the ``grading`` queue, where a
    sandbox is (the web process never runs one)."""
    try:
        assignment_reference_check(assignment_id=assignment_id, package_sha256=package_sha256)
    except SoftTimeLimitExceeded:
        assignment_reference_mark_failed(
            assignment_id=assignment_id,
            package_sha256=package_sha256,
            error="the check took longer than GRADING_TIME_LIMIT",
        )
    except SandboxError as exc:
        logger.warning("sandbox error checking assignment %s: %s", assignment_id, exc)
        if self.request.retries < MAX_INFRA_RETRIES:
            raise self.retry(countdown=2**self.request.retries, exc=exc) from exc
        assignment_reference_mark_failed(
            assignment_id=assignment_id, package_sha256=package_sha256, error=f"sandbox: {exc}"
        )
    except Exception as exc:
        logger.exception("reference check of assignment %s crashed", assignment_id)
        assignment_reference_mark_failed(
            assignment_id=assignment_id,
            package_sha256=package_sha256,
            error=f"{type(exc).__name__}: {exc}",
        )
