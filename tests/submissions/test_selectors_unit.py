"""Direct tests of the submissions selectors: the queue position, the limits' clocks, late
submissions and the staff lists, each without a view."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grader.submissions.models import Submission
from grader.submissions.selectors import (
    cooldown_left,
    failed_builds_wait,
    is_late,
    queue_position,
    submission_list_for_student,
    submission_list_for_teacher,
    submission_list_not_graded,
    upload_limit_wait,
)

pytestmark = pytest.mark.django_db


def make(world, student, attempt, *, minutes_ago=0.0, status=Submission.Status.GRADED,
         gradable=True) -> Submission:
    return Submission.objects.create(
        assignment=world.assignment, student=student, attempt=attempt, status=status,
        gradable=gradable, created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


def test_queue_position_counts_every_older_queued_submission_across_students(world):
    first = make(world, world.alice, 1, minutes_ago=3, status=Submission.Status.QUEUED)
    make(world, world.bob, 1, minutes_ago=2, status=Submission.Status.RUNNING)  # not waiting
    second = make(world, world.bob, 2, minutes_ago=1, status=Submission.Status.QUEUED)
    assert queue_position(submission=first) == 1
    assert queue_position(submission=second) == 2
    assert queue_position(submission=Submission.objects.get(status="running")) is None


def test_queue_position_breaks_a_tie_in_created_at_by_id(world):
    now = timezone.now()
    a = make(world, world.alice, 1, status=Submission.Status.QUEUED)
    b = make(world, world.bob, 1, status=Submission.Status.QUEUED)
    Submission.objects.filter(pk__in=[a.pk, b.pk]).update(created_at=now)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (queue_position(submission=a), queue_position(submission=b)) == (1, 2)


def test_cooldown_left_runs_from_the_last_counted_upload(world):
    world.assignment.cooldown_minutes = 10
    world.assignment.save()
    assert cooldown_left(assignment=world.assignment, student=world.alice) is None
    make(world, world.alice, 1, minutes_ago=4)
    left = cooldown_left(assignment=world.assignment, student=world.alice)
    assert left is not None and timedelta(minutes=5, seconds=50) < left <= timedelta(minutes=6)
    make(world, world.alice, 2, minutes_ago=11)  # older: does not move the clock
    assert cooldown_left(assignment=world.assignment, student=world.alice) is not None
    assert cooldown_left(assignment=world.assignment, student=world.bob) is None


def test_cooldown_left_is_none_without_a_cooldown_or_once_it_passed(world):
    make(world, world.alice, 1, minutes_ago=0)
    assert cooldown_left(assignment=world.assignment, student=world.alice) is None  # 0 minutes
    world.assignment.cooldown_minutes = 1
    world.assignment.save()
    Submission.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    assert cooldown_left(assignment=world.assignment, student=world.alice) is None


def test_the_upload_limit_waits_for_the_oldest_upload_in_the_window(world, settings):
    settings.STUDENT_UPLOAD_LIMIT = 2
    settings.STUDENT_UPLOAD_WINDOW_MINUTES = 10
    make(world, world.alice, 1, minutes_ago=8)
    assert upload_limit_wait(student=world.alice) is None
    make(world, world.alice, 2, minutes_ago=1)
    wait = upload_limit_wait(student=world.alice)
    # The older of the two leaves the window in about 2 minutes.
    assert wait is not None and timedelta(minutes=1, seconds=50) < wait <= timedelta(minutes=2)
    make(world, world.alice, 3, minutes_ago=0, status=Submission.Status.FAILED_INFRA)
    again = upload_limit_wait(student=world.alice)  # not graded: does not count
    assert again is not None and abs(again - wait) < timedelta(seconds=5)
    settings.STUDENT_UPLOAD_LIMIT = 0  # off
    assert upload_limit_wait(student=world.alice) is None


def test_failed_builds_count_only_uploads_that_did_not_compile(world, settings):
    settings.FAILED_BUILD_LIMIT = 2
    settings.FAILED_BUILD_WINDOW_MINUTES = 30
    make(world, world.alice, 1, minutes_ago=5, gradable=False)
    make(world, world.alice, 2, minutes_ago=4)
    assert failed_builds_wait(assignment=world.assignment, student=world.alice) is None
    make(world, world.alice, 3, minutes_ago=3, gradable=False)
    wait = failed_builds_wait(assignment=world.assignment, student=world.alice)
    assert wait is not None and timedelta(minutes=24) < wait <= timedelta(minutes=25)
    make(world, world.alice, 4, minutes_ago=31, gradable=False)  # outside the window
    assert failed_builds_wait(assignment=world.assignment, student=world.bob) is None


def test_is_late_compares_with_the_deadline_that_applies(world):
    submission = make(world, world.alice, 1, minutes_ago=0)
    assert not is_late(submission, None)
    assert is_late(submission, submission.created_at - timedelta(seconds=1))
    assert not is_late(submission, submission.created_at)


def test_the_staff_lists_are_newest_first_and_the_not_graded_one_holds_only_those(world):
    graded = make(world, world.alice, 1, minutes_ago=3)
    ungradable = make(world, world.bob, 1, minutes_ago=2, status=Submission.Status.UNGRADABLE)
    failed = make(world, world.alice, 2, minutes_ago=1, status=Submission.Status.FAILED_INFRA)
    assert list(submission_list_for_teacher(assignment=world.assignment)) == [
        failed, ungradable, graded
    ]
    assert list(submission_list_not_graded(assignment=world.assignment)) == [failed, ungradable]
    assert list(submission_list_for_student(assignment=world.assignment,
                                            student=world.alice)) == [failed, graded]
