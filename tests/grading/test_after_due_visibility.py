"""An ``after_due_date`` test's details reach a student once *her* deadline has passed: an
extension still running keeps them from her, on the page and in what the selector returns,
while a classmate without one sees them (issue 12: they were shown at the assignment's date)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from grader.courses.models import Extension
from grader.grading.selectors import results_for_viewer
from tests.feedback_loop.factories import graded

pytestmark = pytest.mark.django_db
TESTS = [
    ("test_visible", "visible", False, 1),
    ("test_after_due_SECRET", "after_due_date", False, 2),
]


@pytest.fixture
def past_due(world: Any) -> Any:
    """The assignment's date has passed; alice has an extension until tomorrow."""
    world.assignment.due_at = timezone.now() - timedelta(hours=1)
    world.assignment.max_attempts = None
    world.assignment.save()
    Extension.objects.create(assignment=world.assignment, student=world.alice,
                             due_at=timezone.now() + timedelta(days=1))
    return world


def names(submission: Any) -> list[str]:
    return [r.name for r in results_for_viewer(submission=submission, staff=False).shown]


def test_a_running_extension_keeps_after_due_date_details_hidden(past_due: Any):
    alices = graded(past_due, past_due.alice, TESTS)
    bobs = graded(past_due, past_due.bob, TESTS)
    assert names(alices) == ["test_visible"]
    assert results_for_viewer(submission=alices, staff=False).after_due_count == 1
    assert names(bobs) == ["test_visible", "test_after_due_SECRET"]


def test_the_student_page_shows_them_only_once_her_own_deadline_passed(client: Any,
                                                                       past_due: Any):
    submission = graded(past_due, past_due.alice, TESTS)
    client.force_login(past_due.alice)
    page = client.get(reverse("submission_detail", args=[submission.pk])).content.decode()
    assert "test_after_due_SECRET" not in page and "SECRET-output" not in page
    Extension.objects.filter(student=past_due.alice).update(
        due_at=timezone.now() - timedelta(minutes=1))
    page = client.get(reverse("submission_detail", args=[submission.pk])).content.decode()
    assert "test_after_due_SECRET" in page
