"""Grading a stored submission: claim once, store results, run the graded hooks."""

from __future__ import annotations

import pytest

from grader.grading.services import submission_grade
from grader.submissions.models import Submission
from grader.submissions.services import submission_create
from tests.conftest import example_submission

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db]
CALLS: list[int] = []


def record_hook(submission_id: int) -> None:
    CALLS.append(submission_id)


def broken_hook(submission_id: int) -> None:
    raise RuntimeError("a hook that fails")


def test_grading_stores_results_and_runs_hooks_after_commit(
    world, settings, django_capture_on_commit_callbacks
):
    settings.GRADED_HOOKS = ["tests.grading.test_services.broken_hook",
                             "tests.grading.test_services.record_hook"]
    CALLS.clear()
    with django_capture_on_commit_callbacks(execute=False):
        submission = submission_create(
            assignment=world.assignment, student=world.alice,
            uploads=[("solution.py", example_submission("add_two_numbers", "wrong.py"))],
        )
    with django_capture_on_commit_callbacks(execute=True):
        graded = submission_grade(submission_id=submission.id)
    assert graded is not None and graded.status == Submission.Status.GRADED
    assert (graded.score, graded.max_score) == (5, 9)
    assert graded.results.count() == 7
    assert CALLS == [submission.id]  # the broken hook before it did not stop it


def test_a_second_delivery_of_the_same_message_grades_nothing(world):
    submission = submission_create(
        assignment=world.assignment, student=world.alice,
        uploads=[("solution.py", example_submission("add_two_numbers", "correct.py"))],
    )
    assert submission_grade(submission_id=submission.id) is not None
    assert submission_grade(submission_id=submission.id) is None
    assert Submission.objects.get(pk=submission.id).results.count() == 7
