"""Reads and writes for the teacher's review queue of machine feedback."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    votes: int  # k: validated voters on the line
    others: list[dict[str, Any]]  # votes for other lines, and unparseable samples
    original: str = ""  # the voted line as the student wrote it (next to the checked repair)
    checked: dict[str, Any] | None = None  # the winning repair's check
    backing: list[dict[str, Any]] = field(default_factory=list)  # votes for the voted line


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
        votes = round(fb.agreement * fb.samples_count)
        backing = [v for v in fb.voters or [] if v.get("line") == fb.line]
        others = [v for v in fb.voters or [] if v.get("line") != fb.line]
        others += [{"origin": "model", "status": "unparsed", "text": s.get("text", "")}
                   for s in fb.samples or [] if not s.get("parsed")]
        checked = next((c for c in fb.candidates or []
                        if c.get("line") == fb.line and c.get("text") == fb.repair), None)
        last = max(int((checked or {}).get("end") or 0), fb.line or 0)
        original = "\n".join(lines[fb.line - 1: last]) if fb.line and 0 < fb.line <= len(
            lines) else ""
        items.append(ReviewItem(fb, code, failing, votes, others, original, checked, backing))
    return items


@transaction.atomic
def feedback_edit_and_release(*, feedback: Feedback, explanation: str, hint: str) -> None:
    """A teacher's corrected text replaces the model's, then the student sees it."""
    Feedback.objects.filter(id=feedback.id).update(
        explanation=explanation.strip(), hint=hint.strip(), status=Feedback.Status.RELEASED,
        explanation_source="teacher",
    )
    # Sent even when it was already released: the text the student reads has changed.
    feedback_released_on_commit([feedback.submission_id])


@transaction.atomic
def feedback_bulk_release(*, course: Course, min_agreement: float) -> int:
    """Release every pending, *validated* item of the course whose validated agreement is at
    least ``min_agreement``. Unverified and partly checked items need a teacher each."""
    pending = Feedback.objects.filter(
        submission__assignment__course=course,
        status=Feedback.Status.PENDING_REVIEW,
        verification="validated",
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
