"""Reads and writes for the teacher's review queue of machine feedback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from grader.courses.models import Course
from grader.feedback.models import Feedback
from grader.feedback.services import feedback_released_on_commit
from grader.grading.models import TestResult


@dataclass
class ReviewItem:
    feedback: Feedback
    code: list[tuple[int, str, bool]]  # (line number, text, is the voted line)
    failing: list[TestResult]
    votes: int
    others: list[dict[str, Any]]  # the samples that did not win, parsed or raw


def review_queryset(*, course: Course) -> QuerySet[Feedback]:
    return (
        Feedback.objects.filter(
            submission__assignment__course=course, status=Feedback.Status.PENDING_REVIEW
        )
        .select_related("submission__student", "submission__assignment")
        .prefetch_related("submission__files", "submission__results")
        .order_by("agreement", "created_at")
    )


def review_items(*, course: Course, limit: int = 50) -> list[ReviewItem]:
    """Pending feedback of the course, lowest confidence first (a fixed number of queries)."""
    items = []
    for fb in review_queryset(course=course)[:limit]:
        submission = fb.submission
        main = next(
            (
                f
                for f in submission.files.all()
                if f.name == submission.assignment.submission_filename
            ),
            None,
        )
        lines = main.text.splitlines() if main else []
        code = [(i, text, i == fb.line) for i, text in enumerate(lines, start=1)]
        failing = [r for r in submission.results.all() if r.verdict != TestResult.Verdict.PASSED]
        won = (fb.line, fb.category)
        others, votes = [], 0
        for sample in fb.samples or []:
            parsed = sample.get("parsed") or {}
            if (parsed.get("line"), parsed.get("category")) == won:
                votes += 1
            else:
                others.append(sample)
        items.append(ReviewItem(fb, code, failing, votes, others))
    return items


@transaction.atomic
def feedback_edit_and_release(*, feedback: Feedback, explanation: str, hint: str) -> None:
    """A teacher's corrected text replaces the model's, then the student sees it."""
    Feedback.objects.filter(id=feedback.id).update(
        explanation=explanation.strip(), hint=hint.strip(), status=Feedback.Status.RELEASED
    )
    # Sent even when it was already released: the text the student reads has changed.
    feedback_released_on_commit([feedback.submission_id])


@transaction.atomic
def feedback_bulk_release(*, course: Course, min_agreement: float) -> int:
    """Release every pending item of the course whose agreement is at least ``min_agreement``."""
    pending = Feedback.objects.filter(
        submission__assignment__course=course,
        status=Feedback.Status.PENDING_REVIEW,
        agreement__gte=min_agreement,
    )
    # Locked (Postgres), so the rows released are exactly the ones notified below.
    submission_ids = list(
        pending.select_for_update(of=("self",)).values_list("submission_id", flat=True)
    )
    released = pending.filter(submission_id__in=submission_ids).update(
        status=Feedback.Status.RELEASED
    )
    feedback_released_on_commit(submission_ids)  # each re-checks its status before sending
    return released
