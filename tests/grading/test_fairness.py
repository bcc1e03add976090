"""At most GRADING_MAX_RUNNING_PER_STUDENT of one student's submissions are graded at once: the
claim defers the rest (they stay QUEUED) and the end of one of hers sends the next one.

The real queue (Celery workers on Redis, two of them) is in tests/ops/test_fairness.py."""

from __future__ import annotations

import pytest

from grader.grading.services import (
    submission_claim,
    submission_mark_failed,
    submission_wake_deferred,
)
from grader.submissions.models import Submission
from grader.submissions.services import submission_create

pytestmark = pytest.mark.django_db
UPLOAD = [("solution.py", b"def add(a, b):\n    return a + b\n")]


@pytest.fixture
def sent(monkeypatch) -> list[tuple[int, str]]:
    """What would go to the broker (the wake-up's own logic is under test here)."""
    calls: list[tuple[int, str]] = []
    monkeypatch.setattr(
        "grader.grading.tasks.enqueue_grading",
        lambda submission_id, *, queue="grading": calls.append((submission_id, queue)) or True,
    )
    return calls


def upload(world, student) -> Submission:
    return submission_create(assignment=world.assignment, student=student, uploads=UPLOAD)


@pytest.fixture
def queued(world, settings):
    world.assignment.max_attempts = None
    world.assignment.save()
    settings.GRADING_MAX_RUNNING_PER_STUDENT = 1
    return [upload(world, world.alice) for _ in range(3)], upload(world, world.bob)


def status(submission: Submission) -> str:
    submission.refresh_from_db()
    return submission.status


def test_a_students_second_submission_waits_while_her_first_is_graded(queued):
    (a1, a2, a3), b1 = queued
    assert submission_claim(submission_id=a1.pk) is not None
    assert submission_claim(submission_id=a2.pk) is None
    assert submission_claim(submission_id=a3.pk) is None
    assert (status(a2), status(a3)) == ("queued", "queued")  # deferred, not lost
    assert submission_claim(submission_id=b1.pk) is not None  # another student is not held up


def test_the_end_of_her_grading_sends_her_oldest_waiting_submission(queued, sent):
    (a1, a2, a3), _ = queued
    submission_claim(submission_id=a1.pk)
    assert submission_claim(submission_id=a2.pk) is None
    assert submission_wake_deferred(submission_id=a1.pk) == []  # a1 is still running
    submission_mark_failed(submission_id=a1.pk, error="sandbox error")  # any final status
    assert submission_wake_deferred(submission_id=a1.pk) == [a2.pk]
    assert sent == [(a2.pk, "grading")]
    assert submission_claim(submission_id=a2.pk) is not None


def test_a_woken_regrade_goes_back_to_the_batch_queue(queued, sent):
    (a1, a2, _), _ = queued
    Submission.objects.filter(pk=a2.pk).update(queue="batch")
    submission_claim(submission_id=a1.pk)
    submission_mark_failed(submission_id=a1.pk, error="x")
    submission_wake_deferred(submission_id=a1.pk)
    assert sent == [(a2.pk, "batch")]


def test_two_slots_per_student_let_two_of_hers_run(queued, settings, sent):
    settings.GRADING_MAX_RUNNING_PER_STUDENT = 2
    (a1, a2, a3), _ = queued
    assert submission_claim(submission_id=a1.pk) is not None
    assert submission_claim(submission_id=a2.pk) is not None
    assert submission_claim(submission_id=a3.pk) is None
    submission_mark_failed(submission_id=a2.pk, error="x")
    assert submission_wake_deferred(submission_id=a2.pk) == [a3.pk]


def test_a_limit_of_zero_claims_every_submission(queued, settings):
    settings.GRADING_MAX_RUNNING_PER_STUDENT = 0
    (a1, a2, a3), _ = queued
    assert all(submission_claim(submission_id=s.pk) is not None for s in (a1, a2, a3))


def test_the_grading_task_wakes_the_next_one_whatever_the_outcome(queued, sent, monkeypatch):
    from grader.grading.tasks import grade_submission_task

    (a1, a2, a3), _ = queued

    def crash(*, submission_id: int) -> None:
        if submission_claim(submission_id=submission_id) is None:
            return  # what submission_grade does when it claims nothing
        raise RuntimeError("the grader crashed")

    monkeypatch.setattr("grader.grading.tasks.submission_grade", crash)
    assert submission_claim(submission_id=a2.pk) is not None  # a2 holds the slot
    grade_submission_task.apply(args=(a1.pk,))  # deferred: nothing finished, nothing sent
    assert status(a1) == "queued" and sent == []
    Submission.objects.filter(pk=a2.pk).update(status=Submission.Status.GRADED)
    grade_submission_task.apply(args=(a1.pk,))
    assert status(a1) == "failed_infra"
    assert sent == [(a3.pk, "grading")]
