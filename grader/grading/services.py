"""Grading a stored submission: claim it, run the sandbox, store the results.

The database row is the truth and the broker message only a hint: a duplicated or redelivered
message finds the row already claimed and does nothing.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from grader.grading.models import TestResult
from grader.submissions.models import Submission
from sandbox import Backend, get_backend
from sandbox.grade import GradeReport, grade
from sandbox.package import load_package

logger = logging.getLogger(__name__)


@cache
def sandbox_backend() -> Backend:
    return get_backend(settings.SANDBOX_BACKEND)


def submission_claim(*, submission_id: int) -> bool:
    """Move QUEUED → RUNNING atomically; False when another worker (or an earlier try) has it."""
    claimed = Submission.objects.filter(id=submission_id, status=Submission.Status.QUEUED).update(
        status=Submission.Status.RUNNING, started_at=timezone.now()
    )
    return claimed == 1


@transaction.atomic
def submission_store_report(*, submission: Submission, report: GradeReport) -> None:
    TestResult.objects.filter(submission=submission).delete()
    TestResult.objects.bulk_create(
        TestResult(
            submission=submission,
            position=i,
            name=t.name[:300],
            kind=t.kind,
            score=t.score,
            max_score=t.max_score,
            verdict=str(t.verdict),
            visibility=t.visibility,
            output=t.output,
            wall_seconds=t.wall_seconds,
        )
        for i, t in enumerate(report.tests)
    )
    Submission.objects.filter(id=submission.id).update(
        status=Submission.Status.GRADED,
        score=report.score,
        max_score=report.max_score,
        gradable=report.gradable,
        compile_output=report.compile_output,
        execution_seconds=report.execution_seconds,
        finished_at=timezone.now(),
        error="",
    )


def submission_mark_failed(*, submission_id: int, error: str) -> None:
    Submission.objects.filter(id=submission_id).update(
        status=Submission.Status.FAILED_INFRA, error=error[:5000], finished_at=timezone.now()
    )


def submission_requeue(*, submission_id: int) -> None:
    Submission.objects.filter(id=submission_id, status=Submission.Status.RUNNING).update(
        status=Submission.Status.QUEUED, started_at=None
    )


def submission_run_graded_hooks(*, submission_id: int) -> None:
    """Run settings.GRADED_HOOKS once the results are committed; a hook's failure is logged
    and never undoes the grade."""

    def run_all() -> None:
        for path in settings.GRADED_HOOKS:
            try:
                import_string(path)(submission_id)
            except Exception:
                logger.exception("graded hook %s failed for submission %s", path, submission_id)

    transaction.on_commit(run_all)


def submission_grade(*, submission_id: int) -> Submission | None:
    """Grade one submission if it is still QUEUED. Returns it graded, or None if not claimed.

    Infrastructure errors propagate (the task decides to retry or give up); the student's own
    failures are verdicts inside the report.
    """
    if not submission_claim(submission_id=submission_id):
        logger.info("submission %s already claimed; nothing to do", submission_id)
        return None
    submission = Submission.objects.select_related("assignment").get(id=submission_id)
    package = load_package(Path(submission.assignment.package_path))
    files = {f.name: bytes(f.content) for f in submission.files.all()}
    report = grade(package, files, sandbox_backend())
    submission_store_report(submission=submission, report=report)
    submission_run_graded_hooks(submission_id=submission_id)
    submission.refresh_from_db()
    logger.info("graded submission %s: %s/%s", submission_id, report.score, report.max_score)
    return submission
