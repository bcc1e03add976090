"""results_for_viewer, directly: what staff and the student see of one submission's results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grader.courses.models import Assignment
from grader.grading.models import TestResult
from grader.grading.selectors import results_for_viewer
from grader.submissions.models import Submission

pytestmark = pytest.mark.django_db

# (name, visibility, sanity, passed, points)
ROWS = [
    ("visible_ok", "visible", False, True, 1),
    ("visible_fail", "visible", False, False, 1),
    ("sanity", "hidden", True, True, 1),
    ("hidden_ok", "hidden", False, True, 2),
    ("later", "after_due_date", False, True, 3),
]


def graded(world, status=Submission.Status.GRADED) -> Submission:
    submission = Submission.objects.create(
        assignment=world.assignment, student=world.alice, attempt=1, status=status,
        score=7, max_score=8, created_at=timezone.now(),
    )
    for i, (name, visibility, sanity, passed, points) in enumerate(ROWS):
        TestResult.objects.create(
            submission=submission, position=i, name=name, kind="pytest", sanity=sanity,
            score=points if passed else 0, max_score=points, visibility=visibility,
            verdict="passed" if passed else "failed",
        )
    return submission


def names(view) -> list[str]:
    return [r.name for r in view.shown]


def test_staff_see_every_test_and_the_score(world):
    view = results_for_viewer(submission=graded(world), staff=True)
    assert names(view) == [r[0] for r in ROWS]
    assert (view.hidden_count, view.score, view.max_score) == (0, 7, 8)
    assert not view.withheld


def test_a_student_sees_visible_and_sanity_tests_and_of_the_rest_a_count_and_points(world):
    view = results_for_viewer(submission=graded(world), staff=False)
    assert names(view) == ["visible_ok", "visible_fail", "sanity"]
    assert view.hidden_count == 2 and view.after_due_count == 1
    assert (view.hidden_score, view.hidden_max) == (5, 5)
    assert (view.score, view.max_score) == (7, 8)
    assert (view.shown_passed, view.shown_score, view.shown_max) == (2, 2, 3)
    assert not view.all_shown_passed


def test_after_due_date_tests_appear_once_the_students_own_deadline_passed(world):
    world.assignment.due_at = timezone.now() - timedelta(minutes=1)
    world.assignment.save()
    view = results_for_viewer(submission=graded(world), staff=False)
    assert "later" in names(view) and view.hidden_count == 1 and view.after_due_count == 0


def test_a_withholding_release_policy_hides_hidden_points_and_the_total(world):
    world.assignment.release_policy = Assignment.ReleasePolicy.AFTER_REVIEW
    world.assignment.save()
    view = results_for_viewer(submission=graded(world), staff=False)
    assert view.withheld
    assert view.hidden_score is None and view.score is None
    assert view.hidden_max == 5 and view.max_score == 8  # what is at stake is not a secret
    assert names(view) == ["visible_ok", "visible_fail", "sanity"]


@pytest.mark.parametrize("status", [Submission.Status.UNGRADABLE, Submission.Status.FAILED_INFRA])
def test_a_submission_that_could_not_be_graded_shows_a_student_nothing(world, status):
    submission = graded(world, status=status)
    student = results_for_viewer(submission=submission, staff=False)
    assert (names(student), student.hidden_count, student.score) == ([], 0, None)
    staff = results_for_viewer(submission=submission, staff=True)
    assert len(staff.shown) == len(ROWS) and staff.score is None  # no score without a grade
