from __future__ import annotations

from grader.courses.models import Assignment
from grader.courses.release import release_state
from grader.feedback.models import AssignmentFeedbackConfig, Feedback
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
