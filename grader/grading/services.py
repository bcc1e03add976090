"""Grading a stored submission: claim it, run the sandbox, store the results.

The database row is the truth and the broker message only a hint: a duplicated or redelivered
message finds the row already claimed and does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from grader.courses.models import Assignment
from grader.grading.gradescope_metadata import gradescope_metadata
from grader.grading.models import TestResult
from grader.lib import events
from grader.lib.sandbox import sandbox_backend
from grader.lib.text import storable_text
from grader.submissions.models import Submission
from sandbox.grade import GradeReport, grade
from sandbox.package import load_package
from sandbox.reference import check_reference

logger = logging.getLogger(__name__)


def submission_claim(*, submission_id: int) -> datetime | None:
    """Move QUEUED → RUNNING atomically. Returns the claim's start time, which doubles as the
    claim token, or None when another worker (or an earlier try) has the row, or when its
    student already has GRADING_MAX_RUNNING_PER_STUDENT submissions RUNNING: then the row stays
    QUEUED (deferred) and ``submission_wake_deferred`` sends it again once one of them ends."""
    started_at = timezone.now()
    rows = Submission.objects.filter(id=submission_id, status=Submission.Status.QUEUED)
    limit = settings.GRADING_MAX_RUNNING_PER_STUDENT
    if not limit:
        claimed = rows.update(status=Submission.Status.RUNNING, started_at=started_at)
        return started_at if claimed == 1 else None
    student_id = rows.values_list("student_id", flat=True).first()
    if student_id is None:
        return None
    with transaction.atomic():
        # One claim per student at a time: under Postgres' READ COMMITTED two workers taking
        # two of her rows would each count the other's as not yet running. Locking her user
        # row serialises them (SQLite's IMMEDIATE transactions already do).
        list(get_user_model().objects.select_for_update().filter(id=student_id).values("id"))
        running = Submission.objects.filter(
            student_id=student_id, status=Submission.Status.RUNNING
        ).count()
        if running >= limit:
            logger.info(
                "submission %s deferred: its student has %d grading(s) running",
                submission_id,
                running,
            )
            return None
        claimed = rows.update(status=Submission.Status.RUNNING, started_at=started_at)
    return started_at if claimed == 1 else None


def submission_wake_deferred(*, submission_id: int) -> list[int]:
    """Once ``submission_id`` has finished, send the oldest QUEUED submissions of its student
    that now fit under GRADING_MAX_RUNNING_PER_STUDENT (each to its own queue, at the back:
    other students' messages queued meanwhile go first). A row that still has a message gets
    a second one, which its idempotent claim makes harmless; one whose wake-up is lost is
    re-sent by the sweeper after SWEEPER_QUEUED_AFTER. Returns the ids sent."""
    limit = settings.GRADING_MAX_RUNNING_PER_STUDENT
    if not limit:
        return []
    finished = Submission.objects.filter(
        id=submission_id, status__in=Submission.FINAL_STATUSES
    ).values_list("student_id", flat=True).first()
    if finished is None:
        return []
    mine = Submission.objects.filter(student_id=finished)
    free = limit - mine.filter(status=Submission.Status.RUNNING).count()
    if free <= 0:
        return []
    waiting = list(
        mine.filter(status=Submission.Status.QUEUED)
        .order_by("created_at", "id")
        .values_list("id", "queue")[:free]
    )
    from grader.grading.tasks import enqueue_grading

    for waiting_id, queue in waiting:
        enqueue_grading(waiting_id, queue=queue)
    return [waiting_id for waiting_id, _ in waiting]


@transaction.atomic
def submission_store_report(
    *, submission: Submission, report: GradeReport, claimed_at: datetime | None = None
) -> bool:
    """Replace the submission's results with the report's, in one transaction.

    With ``claimed_at``, the results are stored only if the row is still RUNNING under that
    claim: a worker that lost its claim (the sweeper gave the row to another worker) stores
    nothing, so a submission is never graded twice. Old results stay visible until the new
    ones replace them (a regrade never shows an empty result list). Returns whether it stored.

    A report that could not be graded (``report.ungradable``) is stored as UNGRADABLE with no
    score and its cause in ``error``; its test results are kept for staff.
    """
    rows = Submission.objects.filter(id=submission.id)
    if claimed_at is not None:
        rows = rows.filter(status=Submission.Status.RUNNING, started_at=claimed_at)
    not_graded = report.ungradable
    # Lock and mark first: if the claim is gone, nothing below runs.
    stored = rows.update(
        status=Submission.Status.UNGRADABLE if not_graded else Submission.Status.GRADED,
        score=None if not_graded else report.score,
        max_score=None if not_graded else report.max_score,
        gradable=report.gradable,
        compile_output=storable_text(report.compile_output),
        execution_seconds=report.execution_seconds,
        finished_at=timezone.now(),
        gradings=F("gradings") + 1,
        error=storable_text(not_graded.cause) if not_graded else "",
    )
    if stored != 1:
        return False
    TestResult.objects.filter(submission=submission).delete()
    TestResult.objects.bulk_create(
        TestResult(
            submission=submission,
            position=i,
            name=storable_text(t.name[:300]),
            kind=t.kind,
            score=t.score,
            max_score=t.max_score,
            verdict=str(t.verdict),
            visibility=t.visibility,
            sanity=t.sanity,
            output=storable_text(t.output),  # Postgres refuses NUL: a student's print is not infra
            wall_seconds=t.wall_seconds,
        )
        for i, t in enumerate(report.tests)
    )
    return True


def submission_mark_failed(*, submission_id: int, error: str) -> None:
    # Only a row still in flight: a late failure never overwrites a grade stored meanwhile.
    Submission.objects.filter(
        id=submission_id, status__in=[Submission.Status.QUEUED, Submission.Status.RUNNING]
    ).update(
        status=Submission.Status.FAILED_INFRA,
        error=storable_text(error[:5000]),
        finished_at=timezone.now(),
    )


def submission_requeue(*, submission_id: int) -> None:
    Submission.objects.filter(id=submission_id, status=Submission.Status.RUNNING).update(
        status=Submission.Status.QUEUED, started_at=None, queued_at=timezone.now()
    )


def submission_run_graded_hooks(*, submission_id: int) -> None:
    """Emit ``submission.graded`` (grader.lib.events: settings.GRADED_HOOKS run once the
    results are committed; a subscriber's failure is logged and never undoes the grade). Only
    for a GRADED submission: the subscribers send scores (LMS webhook, LTI) and ask for
    feedback, and a submission that could not be graded has none."""
    events.emit(
        events.GRADED,
        submission_id=submission_id,
        only_if=Submission.objects.filter(
            id=submission_id, status=Submission.Status.GRADED
        ).exists,
    )


def submission_grade(*, submission_id: int) -> Submission | None:
    """Grade one submission if it is still QUEUED. Returns it graded (or UNGRADABLE), or None
    if not claimed.

    Infrastructure errors propagate (the task decides to retry or give up); the student's own
    failures are verdicts inside the report. The graded hooks (LMS score, webhook, feedback)
    run only for a grade: a submission that could not be graded sends no score anywhere.
    """
    claimed_at = submission_claim(submission_id=submission_id)
    if claimed_at is None:
        logger.info("submission %s already claimed; nothing to do", submission_id)
        return None
    submission = Submission.objects.select_related("assignment", "student").get(id=submission_id)
    package = load_package(Path(submission.assignment.package_path))
    files = {f.name: bytes(f.content) for f in submission.files.all()}
    report = grade(package, files, sandbox_backend(),
                   metadata=gradescope_metadata(submission=submission))
    if not submission_store_report(submission=submission, report=report, claimed_at=claimed_at):
        logger.warning("submission %s: claim lost while grading; results dropped", submission_id)
        return None
    submission.refresh_from_db()
    if report.ungradable:
        logger.warning(
            "submission %s could not be graded (%s fault): %s",
            submission_id,
            report.ungradable.fault,
            report.ungradable.cause[:300],
        )
        return submission
    submission_run_graded_hooks(submission_id=submission_id)
    logger.info("graded submission %s: %s/%s", submission_id, report.score, report.max_score)
    return submission


class RegradeScope(StrEnum):
    ALL = "all"
    LATEST_PER_STUDENT = "latest_per_student"
    NOT_GRADED = "not_graded"  # UNGRADABLE and FAILED_INFRA rows, once the cause is fixed


def submission_regrade(
    *,
    assignment: Assignment,
    scope: RegradeScope | str = RegradeScope.ALL,
    chunk_size: int = 200,
    progress: Callable[[int], None] | None = None,
) -> list[int]:
    """Queue the assignment's finished submissions for grading again, on the ``batch`` queue.

    Only finished rows are taken: GRADED, UNGRADABLE and FAILED_INFRA (a QUEUED or RUNNING row
    is about to be graded with the current package anyway); ``not_graded`` takes only the
    UNGRADABLE and FAILED_INFRA ones. Each row goes back to QUEUED with a conditional UPDATE,
    so the normal idempotent claim applies: a duplicated message grades it once. Its old
    results and score stay in place, visible to teachers, until the new report replaces them in
    one transaction; there are never two sets of TestResult rows. ``latest_per_student`` takes
    each student's highest attempt only. Messages are sent after each chunk commits;
    ``progress`` is called with the number of rows queued so far. Returns the queued ids.
    """
    scope = RegradeScope(scope)
    rows = Submission.objects.filter(assignment=assignment)
    if scope is RegradeScope.LATEST_PER_STUDENT:
        latest = (
            Submission.objects.filter(assignment=assignment, student=OuterRef("student"))
            .order_by("-attempt")
            .values("id")[:1]
        )
        rows = rows.filter(id=Subquery(latest))
    elif scope is RegradeScope.NOT_GRADED:
        rows = rows.filter(status__in=Submission.NOT_GRADED_STATUSES)
    finished = rows.filter(status__in=Submission.FINAL_STATUSES).order_by("id")
    ids = list(finished.values_list("id", flat=True))
    queued: list[int] = []
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        with transaction.atomic():
            now = timezone.now()
            requeued = list(
                Submission.objects.filter(id__in=chunk, status__in=Submission.FINAL_STATUSES)
                .select_for_update()
                .values_list("id", flat=True)
            )
            Submission.objects.filter(id__in=requeued).update(
                status=Submission.Status.QUEUED,
                queue="batch",
                queued_at=now,
                started_at=None,
                recoveries=0,
            )
            transaction.on_commit(partial(_enqueue_all, requeued, "batch"))
        queued.extend(requeued)
        if progress is not None:
            progress(len(queued))
    logger.info("regrade of assignment %s (%s): %d queued", assignment.pk, scope, len(queued))
    return queued


def _enqueue_all(ids: list[int], queue: str) -> None:
    from grader.grading.tasks import enqueue_grading

    for submission_id in ids:
        enqueue_grading(submission_id, queue=queue)


def _storable(value: Any) -> Any:
    """A JSON value with every string made storable (Postgres jsonb refuses NUL, too)."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {k: _storable(v) for k, v in value.items()}
    return value


def assignment_reference_check(*, assignment_id: int, package_sha256: str) -> bool:
    """Grade the package's reference solution twice (``sandbox.reference``) and store the result
    on the assignment. Returns whether it stored.

    Keyed by the package version it was asked for: when the teacher has replaced the package
    meanwhile, nothing runs or is stored (the new package's own check is queued). A
    ``SandboxError`` propagates: the task retries it, as for a submission.
    """
    assignment = Assignment.objects.filter(id=assignment_id, package_sha256=package_sha256).first()
    if assignment is None:
        logger.info("assignment %s: package changed; reference check skipped", assignment_id)
        return False
    package = load_package(Path(assignment.package_path))
    if package.solution_dir is None:
        return False
    result = check_reference(package, sandbox_backend()).as_json()
    result["package_sha256"] = package_sha256
    stored = Assignment.objects.filter(id=assignment_id, package_sha256=package_sha256).update(
        reference_status=result["status"], reference_result=_storable(result)
    )
    logger.info("assignment %s: reference solution %s", assignment_id, result["status"])
    return stored == 1


def assignment_reference_mark_failed(
    *, assignment_id: int, package_sha256: str, error: str
) -> None:
    """The check could not run (our sandbox or worker failed): say so, so the teacher can ask
    again, instead of leaving it "being checked" forever."""
    Assignment.objects.filter(
        id=assignment_id,
        package_sha256=package_sha256,
        reference_status=Assignment.ReferenceStatus.PENDING,
    ).update(
        reference_status=Assignment.ReferenceStatus.ERROR,
        reference_result={"error": storable_text(error[:2000]), "package_sha256": package_sha256},
    )


def reference_checks_sweep(*, now: datetime | None = None) -> list[int]:
    """Re-send the reference checks still pending after SWEEPER_RUNNING_AFTER s (the message was
    lost or the worker died). Each re-send touches ``reference_requested_at``, so a check is sent
    again at most once a period; a duplicate run stores the same kind of result twice."""
    now = now or timezone.now()
    stale = Assignment.objects.filter(
        reference_status=Assignment.ReferenceStatus.PENDING,
        reference_requested_at__lt=now - timedelta(seconds=settings.SWEEPER_RUNNING_AFTER),
    ).values_list("id", "package_sha256", "reference_requested_at")
    resent = []
    for assignment_id, sha, requested_at in stale:
        if Assignment.objects.filter(
            id=assignment_id, reference_requested_at=requested_at
        ).update(reference_requested_at=now):
            from grader.grading.tasks import enqueue_reference_check

            enqueue_reference_check(assignment_id, sha)
            resent.append(assignment_id)
    return resent
