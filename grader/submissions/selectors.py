"""Reads for submissions. Query counts stay constant in the number of rows shown."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from grader.courses.models import Assignment
from grader.submissions.models import Submission


def attempts_used(*, assignment: Assignment, student: Any) -> int:
    """Attempts that count: everything except submissions that did not compile."""
    return Submission.objects.filter(assignment=assignment, student=student, gradable=True).count()


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
