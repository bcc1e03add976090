"""Writes for submissions: intake of student uploads."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from grader.courses.models import Assignment, Enrollment
from grader.courses.selectors import course_role
from grader.submissions.models import Submission, SubmissionFile
from grader.submissions.selectors import attempts_used, cooldown_left
from sandbox.intake import IntakeError, normalize_submission
from sandbox.package import LANGUAGE_EXTENSIONS


def _enqueue(submission_id: int) -> None:
    """Hand the submission to the broker; never raises (see ``enqueue_grading``)."""
    from grader.grading.tasks import enqueue_grading

    enqueue_grading(submission_id)


def submission_create(
    *, assignment: Assignment, student: Any, uploads: list[tuple[str, bytes]]
) -> Submission:
    """Store a student's upload as the next attempt and queue it for grading.

    Raises ``PermissionDenied`` for users outside the course and ``ValidationError`` with a
    student-readable message for a bad upload or when no attempts are left. Nothing is stored
    unless everything is; the grading task is queued only after the transaction commits.
    """
    role = course_role(user=student, course=assignment.course)
    if role is None:
        raise PermissionDenied("You are not enrolled in this course.")
    if not assignment.is_published and role == Enrollment.Role.STUDENT:
        raise PermissionDenied("This assignment is not open yet.")
    wait = cooldown_left(assignment=assignment, student=student)
    if wait:
        minutes, seconds = divmod(int(wait.total_seconds()) + 1, 60)
        raise ValidationError(
            f"Please wait {minutes} min {seconds:02d} s before your next attempt "
            f"(this assignment has a {assignment.cooldown_minutes}-minute cooldown)."
        )
    try:
        normalized = normalize_submission(
            uploads,
            submission=assignment.submission_filename,
            extensions=LANGUAGE_EXTENSIONS[assignment.language],
        )
    except IntakeError as exc:
        raise ValidationError(str(exc)) from exc
    if assignment.max_attempts is not None:
        used = attempts_used(assignment=assignment, student=student)
        if used >= assignment.max_attempts:
            raise ValidationError(
                f"You have used all {assignment.max_attempts} attempts for this assignment."
            )
    for _ in range(3):  # two uploads at once may race for the same attempt number
        try:
            return _submission_store(assignment, student, normalized.files, normalized.notes)
        except IntegrityError:
            continue
    raise ValidationError("Another upload is in progress; please try again.")


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
