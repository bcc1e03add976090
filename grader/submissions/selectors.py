"""Reads for submissions. Query counts stay constant in the number of rows shown."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from grader.courses.models import Assignment
from grader.submissions.models import Submission


def attempts_used(*, assignment: Assignment, student: Any) -> int:
    """Attempts that count (``Submission.uses_attempt``): everything except submissions that
    did not compile and those that could not be graded (UNGRADABLE, FAILED_INFRA). Queued and
    running ones count, so two uploads at once cannot both take the last attempt."""
    return (
        Submission.objects.filter(assignment=assignment, student=student, gradable=True)
        .exclude(status__in=Submission.NOT_GRADED_STATUSES)
        .count()
    )


def cooldown_left(*, assignment: Assignment, student: Any) -> timedelta | None:
    """Time until ``student`` may submit again, or None. Uploads that did not compile count
    too: the cooldown paces attempts at the grader, not at the score. Submissions that could
    not be graded do not: the student did nothing wrong and may submit again at once."""
    if not assignment.cooldown_minutes:
        return None
    last = (
        Submission.objects.filter(assignment=assignment, student=student)
        .exclude(status__in=Submission.NOT_GRADED_STATUSES)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None:
        return None
    left = last + timedelta(minutes=assignment.cooldown_minutes) - timezone.now()
    return left if left.total_seconds() > 0 else None


def _window_wait(created: list[datetime], *, limit: int, minutes: int) -> timedelta | None:
    """With ``created`` newest first: time until fewer than ``limit`` of them are inside the
    last ``minutes``, or None when that is already so (``limit`` 0: no limit)."""
    if not limit or len(created) < limit:
        return None
    left = created[limit - 1] + timedelta(minutes=minutes) - timezone.now()
    return left if left.total_seconds() > 0 else None


def failed_builds_wait(*, assignment: Assignment, student: Any) -> timedelta | None:
    """Time until ``student`` may upload to ``assignment`` again after FAILED_BUILD_LIMIT
    uploads that did not compile within FAILED_BUILD_WINDOW_MINUTES, or None. A failed build
    uses no attempt, so without this a student could keep the build step busy forever."""
    minutes = settings.FAILED_BUILD_WINDOW_MINUTES
    created = list(
        Submission.objects.filter(
            assignment=assignment,
            student=student,
            gradable=False,
            created_at__gt=timezone.now() - timedelta(minutes=minutes),
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: max(settings.FAILED_BUILD_LIMIT, 1)]
    )
    return _window_wait(created, limit=settings.FAILED_BUILD_LIMIT, minutes=minutes)


def upload_limit_wait(*, student: Any) -> timedelta | None:
    """Time until ``student`` may upload again after STUDENT_UPLOAD_LIMIT uploads (all
    assignments together) within STUDENT_UPLOAD_WINDOW_MINUTES, or None. Submissions that
    could not be graded do not count (as for the cooldown: not the student's doing)."""
    minutes = settings.STUDENT_UPLOAD_WINDOW_MINUTES
    created = list(
        Submission.objects.filter(
            student=student, created_at__gt=timezone.now() - timedelta(minutes=minutes)
        )
        .exclude(status__in=Submission.NOT_GRADED_STATUSES)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: max(settings.STUDENT_UPLOAD_LIMIT, 1)]
    )
    return _window_wait(created, limit=settings.STUDENT_UPLOAD_LIMIT, minutes=minutes)


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


def submission_list_not_graded(*, assignment: Assignment) -> QuerySet[Submission]:
    """The assignment's submissions that could not be graded (package, harness or our
    infrastructure), newest first, for the staff dashboard."""
    return submission_list_for_teacher(assignment=assignment).filter(
        status__in=Submission.NOT_GRADED_STATUSES
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
