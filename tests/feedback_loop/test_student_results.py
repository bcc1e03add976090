"""Students read "public tests passed" while hidden tests remain, with their count and points,
and the feedback queue apart from grading's."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from grader.feedback.models import AssignmentFeedbackConfig, Feedback
from grader.submissions.services import submission_create
from tests.feedback_loop.factories import graded

pytestmark = pytest.mark.django_db
PUBLIC_PASS = [("test_positive", "visible", True, 1), ("test_negative", "visible", True, 1),
               ("SECRET-hidden-name", "hidden", False, 2), ("SECRET-two", "hidden", True, 1)]


def status_page(client, submission) -> str:
    return client.get(reverse("submission_status", args=[submission.pk])).content.decode()


def test_all_public_tests_passed_never_reads_all_tests_passed_while_hidden_ones_count(
    client, world
):
    submission = graded(world, world.alice, tests=PUBLIC_PASS)
    client.force_login(world.alice)
    page = status_page(client, submission)
    assert "All public tests passed" in page and "All tests passed" not in page
    assert "2 hidden tests are graded too: 1 / 3 points" in page
    assert "SECRET" not in page
    client.force_login(world.teacher)  # staff see every test: the plain count
    page = status_page(client, submission)
    assert "3 of 4 tests passed" in page and "public" not in page


def test_all_tests_passed_when_nothing_is_hidden(client, world):
    submission = graded(world, world.alice, tests=[("test_positive", "visible", True, 1)])
    client.force_login(world.alice)
    page = status_page(client, submission)
    assert "All tests passed" in page and "hidden" not in page


def test_failing_public_tests_are_counted_as_public(client, world):
    submission = graded(world, world.alice)  # 1 of 2 visible pass, 1 hidden
    client.force_login(world.alice)
    page = status_page(client, submission)
    assert "1 of 2 public tests passed · " in page
    assert "1 hidden test is graded too: 0 / 2 points" in page


def test_only_hidden_tests_show_their_count_and_points(client, world):
    submission = graded(world, world.alice, tests=[("SECRET-x", "hidden", True, 2)])
    client.force_login(world.alice)
    page = status_page(client, submission)
    assert "1 hidden test is graded too: 2 / 2 points" in page and "SECRET" not in page


def test_the_feedback_queue_position_is_shown_apart_from_grading(client, world):
    first = graded(world, world.bob)
    Feedback.objects.create(submission=first)  # pending, ahead
    mine = graded(world, world.alice)
    Feedback.objects.create(submission=mine)
    queued = submission_create(assignment=world.assignment, student=world.alice,
                               uploads=[("solution.py", b"x = 1\n")])
    client.force_login(world.alice)
    page = status_page(client, mine)
    assert "position 2 in the feedback queue (1 ahead of yours)" in page
    assert "Your teacher reviews it before you see it." in page
    assert "grading queue" not in page  # graded: no grading position
    assert 'data-final="false"' in page  # keeps polling until the feedback is written
    page = status_page(client, queued)
    assert "position 1 in the grading queue" in page and "feedback queue" not in page

    Feedback.objects.filter(submission=first).update(claimed_at=timezone.now())
    client.force_login(world.bob)
    page = status_page(client, first)
    assert "Feedback on the failing tests: being written now" in page


def test_automatic_release_is_announced_as_such(client, world):
    AssignmentFeedbackConfig.objects.create(assignment=world.assignment, release="auto",
                                            auto_release_agreement=0.75)
    mine = graded(world, world.alice)
    Feedback.objects.create(submission=mine)
    client.force_login(world.alice)
    page = status_page(client, mine)
    assert "appears here by itself" in page


def test_no_feedback_queue_line_once_it_is_written(client, world):
    mine = graded(world, world.alice)
    Feedback.objects.create(submission=mine, status=Feedback.Status.PENDING_REVIEW)
    client.force_login(world.alice)
    page = status_page(client, mine)
    assert "feedback queue" not in page and 'data-final="true"' in page
