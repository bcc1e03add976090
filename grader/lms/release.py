"""Releasing withheld results (grader.courses.release) to the places outside the grader.

The student's pages read the release rule directly, so they change the moment a deadline
passes. Systems outside the grader were told less before release (an LTI "Pending" grade with
no score, webhooks without the total): at release they must be sent the full result, once.
That happens here, from the periodic sweep (``ops.sweep``) for releases by the clock (the due
date, each student's extension included) and at once for a teacher's "Release results now".
A ``ResultsRelease`` row per submission makes each release happen once, whoever runs it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from grader.courses.models import Assignment, Extension
from grader.courses.release import release_state
from grader.lms.models import ResultsRelease
from grader.submissions.models import Submission

logger = logging.getLogger(__name__)


def released_for_student(submission_ids: list[int]) -> list[int]:
    """Those of ``submission_ids`` whose students see their withheld results now."""
    rows = Submission.objects.filter(pk__in=submission_ids).select_related("assignment", "student")
    return [
        s.pk for s in rows
        if release_state(assignment=s.assignment, student=s.student).released
    ]


def release_on_graded(submission_id: int) -> None:
    """GRADED_HOOK: a submission graded when its results are already released had nothing
    withheld; mark it so that the sweep does not release it again."""
    submission = (
        Submission.objects.select_related("assignment", "student")
        .filter(pk=submission_id, status=Submission.Status.GRADED)
        .first()
    )
    if submission is None:
        return
    if release_state(assignment=submission.assignment, student=submission.student).released:
        ResultsRelease.objects.get_or_create(
            submission=submission, defaults={"was_withheld": False}
        )


def results_release_submission(*, submission: Submission) -> bool:
    """Send what was withheld from outside systems for one graded submission whose results
    are now released: ``results.released`` (and ``feedback.released`` for an explanation the
    student can now read) to the course's webhook, the full score to LTI. Once per submission:
    returns False when another run already did it."""
    from grader.feedback.models import Feedback
    from grader.feedback_loop.models import Release
    from grader.feedback_loop.services import feedback_release_record
    from grader.lms.lti.passback import lti_submission_graded
    from grader.lms.webhooks import feedback_released_notify, results_released_notify

    try:
        with transaction.atomic():
            ResultsRelease.objects.create(submission=submission)
            results_released_notify(submission.pk)
            feedback = Feedback.objects.filter(
                submission=submission, status__in=Feedback.VISIBLE_TO_STUDENT
            ).first()
            # An explanation approved before release reaches the student now; one approved
            # after the release time went out when it was approved (it has a Release record).
            if feedback is not None and not Release.objects.filter(feedback=feedback).exists():
                feedback_release_record(submission_ids=[submission.pk])
                feedback_released_notify(submission.pk)
            lti_submission_graded(submission.pk)  # only the latest graded attempt posts
    except IntegrityError:
        return False  # released by a concurrent run
    return True


def _due_candidates(now: datetime) -> Any:
    """Graded, not yet released submissions of withholding assignments whose release time may
    have come: a teacher's release, the assignment's due date, or the student's extension."""
    extension_due = Extension.objects.filter(
        assignment_id=OuterRef("assignment_id"), student_id=OuterRef("student_id"), due_at__lte=now
    )
    has_extension = Extension.objects.filter(
        assignment_id=OuterRef("assignment_id"), student_id=OuterRef("student_id")
    )
    by_clock = Q(Exists(extension_due)) | Q(~Exists(has_extension), assignment__due_at__lte=now)
    return (
        Submission.objects.filter(status=Submission.Status.GRADED, results_release__isnull=True)
        .filter(
            Q(assignment__results_released_at__isnull=False)
            | (Q(assignment__release_policy=Assignment.ReleasePolicy.AFTER_DUE) & by_clock)
        )
        .select_related("assignment", "student")
        .order_by("id")
    )


def results_release_sweep(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Release every submission whose withheld results are due now (run by ``ops.sweep``).
    Each is checked again with the student's own release rule before anything is sent."""
    now = now or timezone.now()
    released = []
    for submission in _due_candidates(now)[:limit]:
        state = release_state(assignment=submission.assignment, student=submission.student,
                              now=now)
        if state.released and results_release_submission(submission=submission):
            released.append(submission.pk)
    if released:
        logger.info("released the withheld results of %d submissions", len(released))
    return released


def results_release_assignment(*, assignment: Assignment) -> list[int]:
    """A teacher's "Release results now": every student sees everything from now on, and the
    LMS gets the full results of every graded submission not released yet."""
    Assignment.objects.filter(pk=assignment.pk, results_released_at__isnull=True).update(
        results_released_at=timezone.now()
    )
    assignment.refresh_from_db(fields=["results_released_at"])
    return results_release_pending(assignment=assignment)


def results_release_pending(*, assignment: Assignment) -> list[int]:
    """Release, towards the LMS, the graded submissions of ``assignment`` that are released by
    its current settings and were not yet (after a teacher's release or a policy change)."""
    released = []
    rows = (
        Submission.objects.filter(
            assignment=assignment, status=Submission.Status.GRADED, results_release__isnull=True
        )
        .select_related("assignment", "student")
        .order_by("id")
    )
    for submission in rows:
        if release_state(assignment=assignment, student=submission.student).released and (
            results_release_submission(submission=submission)
        ):
            released.append(submission.pk)
    return released
