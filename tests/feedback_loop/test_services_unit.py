"""The feedback_loop services directly: each refusal is its typed error (grader.lib.errors),
so a caller learns the cause from the exception and never asks the database again."""

from __future__ import annotations

import pytest

from grader.feedback.models import Feedback
from grader.feedback_loop import services
from grader.feedback_loop.models import Flag, RegradeRequest, SavedComment
from grader.lib.errors import Conflict, Forbidden, InvalidInput
from grader.submissions.models import Submission
from tests.feedback_loop.factories import feedback, graded

pytestmark = pytest.mark.django_db


def test_a_student_flags_their_released_explanation_once_per_kind(world):
    fb = feedback(graded(world, world.alice))
    flag = services.flag_create(feedback=fb, student=world.alice, kind="wrong", comment=" no ")
    assert flag.comment == "no"
    with pytest.raises(Conflict, match="already flagged") as again:
        services.flag_create(feedback=fb, student=world.alice, kind="wrong")
    assert again.value.code == "already_flagged" and again.value.http_status == 409
    services.flag_create(feedback=fb, student=world.alice, kind="unclear")
    assert Flag.objects.filter(feedback=fb).count() == 2


def test_flag_refusals_are_forbidden_conflict_or_invalid_input(world):
    fb = feedback(graded(world, world.alice))
    with pytest.raises(Forbidden, match="your own submissions"):
        services.flag_create(feedback=fb, student=world.bob, kind="wrong")
    with pytest.raises(InvalidInput, match="Choose what is wrong"):
        services.flag_create(feedback=fb, student=world.alice, kind="rude")
    with pytest.raises(InvalidInput, match="under 2000 characters"):
        services.flag_create(feedback=fb, student=world.alice, kind="wrong", comment="x" * 2001)
    pending = feedback(graded(world, world.alice), status=Feedback.Status.PENDING_REVIEW)
    with pytest.raises(Conflict, match="not released") as unreleased:
        services.flag_create(feedback=pending, student=world.alice, kind="wrong")
    assert unreleased.value.code == "not_released"
    assert not Flag.objects.exists()


def test_a_flag_is_resolved_once_and_withdrawn_takes_the_explanation_away(world):
    fb = feedback(graded(world, world.alice))
    flag = services.flag_create(feedback=fb, student=world.alice, kind="wrong")
    with pytest.raises(InvalidInput, match="Choose an outcome"):
        services.flag_resolve(flag=flag, by=world.teacher, outcome="maybe")
    services.flag_resolve(flag=flag, by=world.teacher, outcome="withdrawn", note="sorry")
    fb.refresh_from_db()
    assert fb.status == Feedback.Status.REJECTED
    with pytest.raises(Conflict, match="already resolved") as twice:
        services.flag_resolve(flag=flag, by=world.ta, outcome="dismissed")
    assert twice.value.code == "already_resolved"
    flag.refresh_from_db()
    assert flag.outcome == "withdrawn" and flag.resolved_by == world.teacher


def test_a_regrade_request_is_for_an_own_graded_submission_one_per_test(world):
    submission = graded(world, world.alice)
    request = services.regrade_request_create(submission=submission, student=world.alice,
                                              position="1", message="The test is wrong")
    assert (request.test_position, request.test_name) == (1, "test_negative")
    with pytest.raises(Conflict, match="open request") as again:
        services.regrade_request_create(submission=submission, student=world.alice,
                                        position="1", message="Again")
    assert again.value.code == "already_requested"
    hidden = services.regrade_request_create(submission=submission, student=world.alice,
                                             position=RegradeRequest.HIDDEN, message="Hidden?")
    assert hidden.test_position is None and hidden.test_name == ""


def test_regrade_request_refusals(world):
    submission = graded(world, world.alice)
    with pytest.raises(Forbidden, match="only of your own"):
        services.regrade_request_create(submission=submission, student=world.bob,
                                        position="1", message="x")
    with pytest.raises(InvalidInput, match="Please write what you think is wrong"):
        services.regrade_request_create(submission=submission, student=world.alice,
                                        position="1", message="   ")
    with pytest.raises(InvalidInput, match="Choose one of the tests"):
        services.regrade_request_create(submission=submission, student=world.alice,
                                        position="2", message="the hidden one, by position")
    Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.UNGRADABLE)
    submission.refresh_from_db()
    with pytest.raises(Conflict, match="Only a graded submission") as ungraded:
        services.regrade_request_create(submission=submission, student=world.alice,
                                        position="1", message="x")
    assert ungraded.value.code == "not_graded"
    assert not RegradeRequest.objects.exists()


def test_a_resolved_request_closes_its_thread(world):
    request = services.regrade_request_create(submission=graded(world, world.alice),
                                              student=world.alice, position="1", message="?")
    services.regrade_request_reply(request=request, author=world.ta, staff=True, body="Looking")
    with pytest.raises(InvalidInput, match="a note for the student"):
        services.regrade_request_resolve(request=request, by=world.ta, outcome="declined",
                                         note="")
    services.regrade_request_resolve(request=request, by=world.ta, outcome="declined",
                                     note="The test is right.")
    with pytest.raises(Conflict, match="already resolved"):
        services.regrade_request_resolve(request=request, by=world.teacher,
                                         outcome="accepted", note="Changed my mind")
    with pytest.raises(Conflict, match="thread is closed"):
        services.regrade_request_reply(request=request, author=world.alice, staff=False,
                                       body="But")
    assert request.messages.count() == 2


def test_a_saved_comment_from_another_course_is_forbidden(world):
    fb = feedback(graded(world, world.alice), status=Feedback.Status.PENDING_REVIEW)
    elsewhere = SavedComment.objects.create(
        course=world.other_course, test_name="t", category="logic", explanation="e",
        created_by=world.teacher,
    )
    with pytest.raises(Forbidden, match="another course"):
        services.saved_comment_use(feedback=fb, comment=elsewhere)
    fb.refresh_from_db()
    assert fb.status == Feedback.Status.PENDING_REVIEW
