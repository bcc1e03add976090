"""Which submissions use an attempt and start a cooldown: never one that could not be graded."""

from __future__ import annotations

import pytest

from grader.grading.services import submission_mark_failed
from grader.lib.errors import Cooldown, NoAttemptsLeft
from grader.submissions.models import Submission
from grader.submissions.selectors import attempts_used, cooldown_left
from grader.submissions.services import submission_create

pytestmark = pytest.mark.django_db
UPLOAD = [("solution.py", b"def add(a, b):\n    return a + b\n")]


def upload(world, student=None) -> Submission:
    return submission_create(assignment=world.assignment, student=student or world.alice,
                             uploads=UPLOAD)


def finish(submission: Submission, status: str, **fields: object) -> None:
    Submission.objects.filter(pk=submission.pk).update(status=status, **fields)


def test_failed_infra_does_not_use_an_attempt(world):
    world.assignment.max_attempts = 1
    world.assignment.save()
    first = upload(world)
    submission_mark_failed(submission_id=first.pk, error="sandbox error: no uid slot")
    first.refresh_from_db()
    assert first.status == Submission.Status.FAILED_INFRA and not first.uses_attempt
    assert attempts_used(assignment=world.assignment, student=world.alice) == 0
    second = upload(world)  # the only attempt is still there
    assert second.attempt == 2
    with pytest.raises(NoAttemptsLeft, match="used all 1 attempts"):
        upload(world)


def test_an_ungradable_submission_does_not_use_an_attempt(world):
    world.assignment.max_attempts = 1
    world.assignment.save()
    finish(upload(world), Submission.Status.UNGRADABLE, error="The assignment's tests failed")
    assert attempts_used(assignment=world.assignment, student=world.alice) == 0
    upload(world)
    assert attempts_used(assignment=world.assignment, student=world.alice) == 1


def test_queued_and_running_submissions_use_their_attempt_until_they_end(world):
    finish(upload(world), Submission.Status.RUNNING)
    upload(world)
    assert attempts_used(assignment=world.assignment, student=world.alice) == 2


def test_a_compile_error_still_uses_no_attempt_but_starts_the_cooldown(world):
    world.assignment.cooldown_minutes = 10
    world.assignment.save()
    finish(upload(world), Submission.Status.GRADED, gradable=False, score=0, max_score=9)
    assert attempts_used(assignment=world.assignment, student=world.alice) == 0
    assert cooldown_left(assignment=world.assignment, student=world.alice) is not None


@pytest.mark.parametrize("status", [Submission.Status.UNGRADABLE, Submission.Status.FAILED_INFRA])
def test_a_submission_that_could_not_be_graded_starts_no_cooldown(world, status):
    world.assignment.cooldown_minutes = 10
    world.assignment.save()
    finish(upload(world), status)
    assert cooldown_left(assignment=world.assignment, student=world.alice) is None
    upload(world)  # at once
    assert cooldown_left(assignment=world.assignment, student=world.alice) is not None
    with pytest.raises(Cooldown, match="Please wait") as refused:
        upload(world)
    assert 590 <= refused.value.retry_after <= 600


def test_attempts_are_counted_per_student(world):
    finish(upload(world), Submission.Status.GRADED, score=9, max_score=9)
    finish(upload(world, world.bob), Submission.Status.UNGRADABLE)
    assert attempts_used(assignment=world.assignment, student=world.alice) == 1
    assert attempts_used(assignment=world.assignment, student=world.bob) == 0
