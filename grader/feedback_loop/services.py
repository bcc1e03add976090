"""Writes: flags on released explanations, regrade requests and their threads, resolutions,
saved comments and their reuse.

Callers check who may act (the submission's student, or the course's staff); these functions
check what may be done (only released feedback is flagged, a resolved item stays resolved).
They raise the typed errors of ``grader.lib.errors`` (``InvalidInput``, ``Forbidden``,
``Conflict``) with a message the user can read.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from grader.feedback.models import Feedback
from grader.feedback.services import feedback_edit_and_release, feedback_reject
from grader.feedback_loop.models import (
    Flag,
    RegradeRequest,
    Release,
    RequestMessage,
    SavedComment,
)
from grader.grading.models import TestResult
from grader.grading.selectors import results_for_viewer
from grader.lib.errors import Conflict, Forbidden, InvalidInput
from grader.submissions.models import Submission

MAX_TEXT = 2000


def _text(value: str, *, required: bool, what: str) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"Please write {what}.")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"Please keep {what} under {MAX_TEXT} characters.")
    return value


def feedback_release_record(*, submission_ids: list[int]) -> None:
    """Remember when each submission's feedback was first released (a re-release keeps the
    first time). Called in the releasing transaction; never raises on a second release."""
    feedback_ids = Feedback.objects.filter(
        submission_id__in=submission_ids, status__in=Feedback.VISIBLE_TO_STUDENT
    ).values_list("id", flat=True)
    now = timezone.now()
    Release.objects.bulk_create(
        [Release(feedback_id=i, released_at=now) for i in feedback_ids], ignore_conflicts=True
    )


# --- flags --------------------------------------------------------------------------------


@transaction.atomic
def flag_create(*, feedback: Feedback, student: Any, kind: str, comment: str = "") -> Flag:
    """The student flags their own released explanation; one flag of each kind."""
    if feedback.submission.student_id != student.pk:
        raise Forbidden("You can flag only the feedback on your own submissions.")
    if feedback.status not in Feedback.VISIBLE_TO_STUDENT:
        raise Conflict("This explanation is not released.", code="not_released")
    if kind not in Flag.Kind.values:
        raise InvalidInput("Choose what is wrong with the explanation.")
    comment = _text(comment, required=False, what="your comment")
    try:
        with transaction.atomic():
            return Flag.objects.create(
                feedback=feedback, kind=kind, comment=comment, created_by=student
            )
    except IntegrityError:
        raise Conflict(
            "You have already flagged this explanation that way.", code="already_flagged"
        ) from None


@transaction.atomic
def flag_resolve(*, flag: Flag, by: Any, outcome: str, note: str = "") -> Flag:
    """Staff resolve an open flag, once. ``withdrawn`` also takes the explanation away from
    the student (the feedback becomes rejected)."""
    if outcome not in Flag.Outcome.values:
        raise InvalidInput("Choose an outcome.")
    note = _text(note, required=False, what="the note")
    now = timezone.now()
    # Conditional: two staff resolving at once, the first one counts.
    if not Flag.objects.filter(id=flag.id, outcome="").update(
        outcome=outcome, note=note, resolved_by=by, resolved_at=now
    ):
        raise Conflict("This flag was already resolved.", code="already_resolved")
    if outcome == Flag.Outcome.WITHDRAWN:
        feedback_reject(feedback=flag.feedback)
    flag.refresh_from_db()
    return flag


# --- regrade requests ---------------------------------------------------------------------


def _requestable_test(submission: Submission, position: str) -> tuple[int | None, str, str]:
    """(position, name, key) of a test the student can see, or the hidden tests as a whole."""
    view = results_for_viewer(submission=submission, staff=False)
    if position == RegradeRequest.HIDDEN:
        if not view.hidden_count:
            raise InvalidInput("This submission has no hidden tests.")
        return None, "", RegradeRequest.HIDDEN
    shown = {str(r.position): r for r in view.shown}
    result = shown.get(position)
    if result is None:
        raise InvalidInput("Choose one of the tests of this submission.")
    return result.position, result.name, f"pos:{result.position}"


@transaction.atomic
def regrade_request_create(
    *, submission: Submission, student: Any, position: str, message: str
) -> RegradeRequest:
    """The student opens a request on one test of their own graded submission (or on its
    hidden tests as a whole), with a first message. One open request per test."""
    if submission.student_id != student.pk:
        raise Forbidden("You can ask for a regrade only of your own submissions.")
    if submission.status != Submission.Status.GRADED:
        raise Conflict("Only a graded submission can be regraded.", code="not_graded")
    body = _text(message, required=True, what="what you think is wrong")
    test_position, name, key = _requestable_test(submission, position)
    try:
        with transaction.atomic():
            request = RegradeRequest.objects.create(
                submission=submission, test_position=test_position, test_name=name,
                test_key=key, created_by=student,
            )
    except IntegrityError:
        raise Conflict(
            "You already have an open request on this test.", code="already_requested"
        ) from None
    RequestMessage.objects.create(request=request, author=student, body=body)
    return request


@transaction.atomic
def regrade_request_reply(
    *, request: RegradeRequest, author: Any, staff: bool, body: str
) -> RequestMessage:
    """A message in the thread, by the student or by staff, while the request is open."""
    body = _text(body, required=True, what="a message")
    locked = RegradeRequest.objects.select_for_update().get(id=request.id)
    if not locked.is_open:
        raise Conflict("This request is resolved; its thread is closed.", code="already_resolved")
    return RequestMessage.objects.create(request=locked, author=author, from_staff=staff, body=body)


@transaction.atomic
def regrade_request_resolve(
    *, request: RegradeRequest, by: Any, outcome: str, note: str
) -> RegradeRequest:
    """Staff close the request with an outcome and a note the student reads. It does not
    change the score: a teacher who agrees fixes the tests and regrades from the dashboard."""
    if outcome not in RegradeRequest.Outcome.values:
        raise InvalidInput("Choose an outcome.")
    note = _text(note, required=True, what="a note for the student")
    if not RegradeRequest.objects.filter(id=request.id, outcome="").update(
        outcome=outcome, note=note, resolved_by=by, resolved_at=timezone.now()
    ):
        raise Conflict("This request was already resolved.", code="already_resolved")
    request.refresh_from_db()
    return request


# --- saved comments -----------------------------------------------------------------------


def _comment_test(feedback: Feedback) -> str:
    """The test a comment is saved for: the one the explanation is grounded in, else (a hidden
    grounding test has no name here) the submission's first failing test."""
    if feedback.grounding_test:
        return feedback.grounding_test
    failing = (
        TestResult.objects.filter(submission_id=feedback.submission_id)
        .exclude(verdict=TestResult.Verdict.PASSED)
        .order_by("position")
        .values_list("name", flat=True)
        .first()
    )
    return failing or ""


@transaction.atomic
def feedback_edit_release_and_save(
    *, feedback: Feedback, explanation: str, hint: str, by: Any, save: bool
) -> SavedComment | None:
    """The teacher's edited text is released (``feedback_edit_and_release``) and, when asked,
    kept as a reusable comment for the feedback's test and bug category."""
    feedback_edit_and_release(feedback=feedback, explanation=explanation, hint=hint)
    if not save or not explanation.strip():
        return None
    return SavedComment.objects.create(
        course_id=feedback.submission.assignment.course_id,
        assignment_id=feedback.submission.assignment_id,
        test_name=_comment_test(feedback)[:300],
        category=feedback.category,
        explanation=explanation.strip(),
        hint=hint.strip(),
        created_by=by,
    )


@transaction.atomic
def saved_comment_use(*, feedback: Feedback, comment: SavedComment) -> None:
    """Release pending feedback with a saved comment's text in place of the model's."""
    if comment.course_id != feedback.submission.assignment.course_id:
        raise Forbidden("That comment belongs to another course.")
    feedback_edit_and_release(feedback=feedback, explanation=comment.explanation,
                              hint=comment.hint)
    SavedComment.objects.filter(id=comment.id).update(uses=F("uses") + 1)


@transaction.atomic
def saved_comment_update(
    *, comment: SavedComment, explanation: str, hint: str, test_name: str, category: str
) -> SavedComment:
    comment.explanation = _text(explanation, required=True, what="the comment")
    comment.hint = _text(hint, required=False, what="the hint")
    comment.test_name = test_name.strip()[:300]
    comment.category = category.strip()[:32]
    comment.updated_at = timezone.now()
    comment.save()
    return comment


@transaction.atomic
def saved_comment_delete(*, comment: SavedComment) -> None:
    comment.delete()
