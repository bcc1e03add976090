"""Writes for submissions: intake of student uploads."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from grader.courses.models import Assignment, Enrollment
from grader.courses.selectors import course_role
from grader.lib.errors import (
    Conflict,
    Cooldown,
    Forbidden,
    NoAttemptsLeft,
    RateLimited,
    UploadRefused,
)
from grader.submissions.models import Submission, SubmissionFile
from grader.submissions.selectors import (
    attempts_used,
    cooldown_left,
    failed_builds_wait,
    upload_limit_wait,
)
from sandbox.intake import IntakeError, normalize_submission
from sandbox.package import LANGUAGE_EXTENSIONS

logger = logging.getLogger(__name__)


def _enqueue(submission_id: int) -> None:
    """Hand the submission to the broker; never raises (see ``enqueue_grading``)."""
    from grader.grading.tasks import enqueue_grading

    enqueue_grading(submission_id)


def submission_create(
    *, assignment: Assignment, student: Any, uploads: list[tuple[str, bytes]]
) -> Submission:
    """Store a student's upload as the next attempt and queue it for grading.

    Raises (``grader.lib.errors``, each with a student-readable message): ``Forbidden`` for
    users outside the course or a student on an unpublished assignment, ``Cooldown`` inside the
    assignment's cooldown, ``UploadRefused`` for a bad upload, ``RateLimited`` past the
    site-wide upload limits, ``NoAttemptsLeft``, and ``Conflict`` when concurrent uploads kept
    taking the attempt number. Nothing is stored unless everything is; the grading task is
    queued only after the transaction commits.
    """
    role = course_role(user=student, course=assignment.course)
    if role is None:
        raise Forbidden("You are not enrolled in this course.")
    if not assignment.is_published and role == Enrollment.Role.STUDENT:
        raise Forbidden("This assignment is not open yet.")
    wait = cooldown_left(assignment=assignment, student=student)
    if wait:
        minutes, seconds = divmod(int(wait.total_seconds()) + 1, 60)
        raise Cooldown(
            f"Please wait {minutes} min {seconds:02d} s before your next attempt "
            f"(this assignment has a {assignment.cooldown_minutes}-minute cooldown).",
            retry_after=wait.total_seconds(),
        )
    try:
        normalized = normalize_submission(
            uploads,
            submission=assignment.submission_filename,
            extensions=LANGUAGE_EXTENSIONS[assignment.language],
        )
    except IntakeError as exc:
        raise UploadRefused(str(exc)) from exc
    if role == Enrollment.Role.STUDENT:  # staff trying their own assignment are never limited
        _check_rate_limits(assignment, student, sorted(normalized.files))
    if assignment.max_attempts is not None:
        used = attempts_used(assignment=assignment, student=student)
        if used >= assignment.max_attempts:
            raise NoAttemptsLeft(
                f"You have used all {assignment.max_attempts} attempts for this assignment."
            )
    for _ in range(3):  # two uploads at once may race for the same attempt number
        try:
            return _submission_store(assignment, student, normalized.files, normalized.notes)
        except IntegrityError:
            continue
    raise Conflict("Another upload is in progress; please try again.", code="upload_in_progress")


def _wait_text(wait: timedelta) -> str:
    minutes, seconds = divmod(int(wait.total_seconds()) + 1, 60)
    return f"{minutes} min {seconds:02d} s"


def _check_rate_limits(assignment: Assignment, student: Any, names: list[str]) -> None:
    """Refuse the upload (nothing stored, a message saying when to come back) past the
    site-wide limits of grader.settings (STUDENT_UPLOAD_*, FAILED_BUILD_*)."""
    refused = f"Your upload ({', '.join(names)}) was not stored: "
    wait = upload_limit_wait(student=student)
    if wait:
        logger.info("upload of %s by %s refused: upload limit", names, student.pk)
        raise RateLimited(
            refused + f"you have uploaded {settings.STUDENT_UPLOAD_LIMIT} times in the last "
            f"{settings.STUDENT_UPLOAD_WINDOW_MINUTES} minutes. You can upload again in "
            f"{_wait_text(wait)}.",
            retry_after=wait.total_seconds(),
            code="upload_limit",
        )
    wait = failed_builds_wait(assignment=assignment, student=student)
    if wait:
        logger.info("upload of %s by %s refused: failed builds", names, student.pk)
        raise RateLimited(
            refused + f"{settings.FAILED_BUILD_LIMIT} of your uploads for this assignment "
            f"did not compile in the last {settings.FAILED_BUILD_WINDOW_MINUTES} minutes. You "
            f"can upload again in {_wait_text(wait)}; meanwhile, fix the errors the compiler "
            "showed on those submissions.",
            retry_after=wait.total_seconds(),
            code="failed_builds",
        )


@transaction.atomic
def _submission_store(
    assignment: Assignment, student: Any, files: dict[str, bytes], notes: list[str]
) -> Submission:
    last = Submission.objects.filter(assignment=assignment, student=student).aggregate(
        n=Max("attempt")
    )["n"]
    submission = Submission.objects.create(
        assignment=assignment,
        student=student,
        attempt=(last or 0) + 1,
        status=Submission.Status.QUEUED,
        notes="\n".join(notes),
        created_at=timezone.now(),
    )
    SubmissionFile.objects.bulk_create(
        SubmissionFile(
            submission=submission,
            name=name,
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
        )
        for name, content in sorted(files.items())
    )
    submission_id = submission.id
    transaction.on_commit(lambda: _enqueue(submission_id))
    return submission
