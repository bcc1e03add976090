from __future__ import annotations

from grader.feedback.models import Feedback
from grader.submissions.models import Submission


def feedback_for_student(submission: Submission) -> Feedback | None:
    """The submission's feedback if a student may see it (released), else None."""
    return Feedback.objects.filter(
        submission=submission, status__in=Feedback.VISIBLE_TO_STUDENT
    ).first()


def feedback_for_staff(submission: Submission) -> Feedback | None:
    """Any feedback, whatever its status (callers check ``is_course_staff`` first)."""
    return Feedback.objects.filter(submission=submission).first()
