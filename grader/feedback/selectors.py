from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from grader.courses.models import Assignment, Course
from grader.courses.release import release_state
from grader.feedback.models import AssignmentFeedbackConfig, Feedback
from grader.grading.models import TestResult
from grader.submissions.models import Submission


def feedback_for_student(submission: Submission) -> Feedback | None:
    """The submission's feedback if its student may see it: released (by a teacher or
    automatically) and past the assignment's release policy (grader.courses.release), else
    None."""
    if release_state(assignment=submission.assignment, student=submission.student).withheld:
        return None
    return feedback_waiting_release(submission)


def feedback_waiting_release(submission: Submission) -> Feedback | None:
    """The released feedback, whether or not the release policy still withholds it (to say
    that one is waiting, never to show it)."""
    return Feedback.objects.filter(
        submission=submission, status__in=Feedback.VISIBLE_TO_STUDENT
    ).first()


def feedback_for_staff(submission: Submission) -> Feedback | None:
    """Any feedback, whatever its status (callers check ``is_course_staff`` first)."""
    return Feedback.objects.filter(submission=submission).first()


def feedback_config_for_assignment(*, assignment: Assignment) -> AssignmentFeedbackConfig:
    """The assignment's feedback settings; an unsaved default row when it has none yet."""
    config = AssignmentFeedbackConfig.objects.filter(assignment=assignment).first()
    return config or AssignmentFeedbackConfig(assignment=assignment)


# --- the teacher's review queue of machine feedback ---------------------------------------


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
