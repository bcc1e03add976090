"""Reads for submissions. Query counts stay constant in the number of rows shown."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from grader.courses.models import Assignment
from grader.submissions.models import Submission


def attempts_used(*, assignment: Assignment, student: Any) -> int:
    """Attempts that count: everything except submissions that did not compile."""
    return Submission.objects.filter(assignment=assignment, student=student, gradable=True).count()


def cooldown_left(*, assignment: Assignment, student: Any) -> timedelta | None:
    """Time until ``student`` may submit again, or None. Uploads that did not compile count
    too: the cooldown paces attempts at the grader, not at the score."""
    if not assignment.cooldown_minutes:
        return None
    last = (
        Submission.objects.filter(assignment=assignment, student=student)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None:
        return None
    left = last + timedelta(minutes=assignment.cooldown_minutes) - timezone.now()
    return left if left.total_seconds() > 0 else None


def is_late(submission: Submission, due: datetime | None) -> bool:
    return due is not None and submission.created_at > due


def submission_list_for_student(*, assignment: Assignment, student: Any) -> QuerySet[Submission]:
    return Submission.objects.filter(assignment=assignment, student=student).order_by("-attempt")


def submission_list_for_teacher(*, assignment: Assignment) -> QuerySet[Submission]:
    return (
        Submission.objects.filter(assignment=assignment)
        .select_related("student")
        .order_by("-created_at", "-id")
    )


def queue_position(*, submission: Submission) -> int | None:
    """1 for the next submission a worker takes; None once grading has started."""
    if submission.status != Submission.Status.QUEUED:
        return None
    ahead = Submission.objects.filter(status=Submission.Status.QUEUED).filter(
        Q(created_at__lt=submission.created_at)
        | Q(created_at=submission.created_at, id__lt=submission.id)
    )
    return ahead.count() + 1
