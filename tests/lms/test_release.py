"""Release policies: what a student, the API and the webhooks see of hidden results before and
after release (the due date, each student's extension, a teacher's release), and that the
periodic sweep makes the release happen at the due date without anyone opening a page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from grader.courses.models import Assignment, Extension
from grader.courses.release import release_state
from grader.feedback.models import Feedback
from grader.grading.models import TestResult
from grader.grading.selectors import results_for_viewer
from grader.lms.models import CourseIntegration, ResultsRelease, WebhookDelivery
from grader.lms.services import api_token_create
from tests.feedback_loop.factories import feedback, graded

SECRET_TOTAL = "score"  # a key of the results payload


@pytest.fixture
def after_due(world: Any) -> Assignment:
    """Due in an hour for everybody; alice has an extension of a day."""
    a = world.assignment
    a.release_policy = Assignment.ReleasePolicy.AFTER_DUE
    a.due_at = timezone.now() + timedelta(hours=1)
    a.save()
    Extension.objects.create(assignment=a, student=world.alice, due_at=a.due_at + timedelta(days=1))
    return a


@pytest.fixture
def hooked(world: Any, settings: Any) -> CourseIntegration:
    settings.GRADED_HOOKS = []
    return CourseIntegration.objects.create(
        course=world.course, secret="s3cret", callback_url="https://lms.example.edu/hook"
    )


def _move_due(assignment: Assignment, delta: timedelta) -> None:
    Assignment.objects.filter(pk=assignment.pk).update(due_at=assignment.due_at + delta)
    assignment.refresh_from_db()


def test_release_state_follows_each_students_own_deadline(world: Any, after_due: Assignment):
    later = after_due.due_at + timedelta(minutes=1)
    bob = release_state(assignment=after_due, student=world.bob, now=later)
    alice = release_state(assignment=after_due, student=world.alice, now=later)
    assert bob.released and not alice.released
    assert alice.until == after_due.due_at + timedelta(days=1) and alice.extended
    assert release_state(assignment=after_due, student=world.bob).withheld


def test_before_release_a_student_sees_visible_tests_but_not_hidden_points_or_the_total(
    world: Any, after_due: Assignment
):
    submission = graded(world, world.bob)  # visible 1/2, hidden 0/2
    view = results_for_viewer(submission=submission, staff=False)
    assert [r.name for r in view.shown] == ["test_positive", "test_negative"]
    assert view.withheld and view.hidden_count == 1
    assert view.hidden_score is None and view.score is None and view.hidden_max == 2
    staff = results_for_viewer(submission=submission, staff=True)
    assert staff.score == 1 and not staff.withheld


def test_a_sanity_check_is_shown_at_once_even_when_hidden(world: Any, after_due: Assignment):
    submission = graded(world, world.bob)
    TestResult.objects.filter(submission=submission, name="SECRET-hidden-name").update(sanity=True)
    view = results_for_viewer(submission=submission, staff=False)
    assert "SECRET-hidden-name" in [r.name for r in view.shown] and view.hidden_count == 0
    assert view.score is None  # the total still waits


def test_the_student_page_says_what_waits_and_until_when_and_shows_no_withheld_score(
    world: Any, after_due: Assignment
):
    submission = graded(world, world.alice)
    feedback(submission, status=Feedback.Status.RELEASED)
    client = Client()
    client.force_login(world.alice)
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "Waiting for release" in page and "your extended due date" in page
    until = timezone.localtime(after_due.due_at + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    assert until in page
    assert "1 / 4" not in page and "0 / 2" not in page  # neither the total nor hidden points
    assert "Line 3 subtracts" not in page  # the approved explanation waits too
    listing = client.get(f"/assignments/{after_due.pk}/").content.decode()
    assert "withheld" in listing and "1 / 4" not in listing
    # Once alice's own deadline has passed, all of it is there.
    _move_due(after_due, timedelta(days=-3))
    Extension.objects.filter(student=world.alice).update(due_at=timezone.now() - timedelta(days=1))
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "1 / 4" in page and "Line 3 subtracts" in page and "Waiting for release" not in page


def test_the_api_withholds_the_score_and_the_explanation_until_release(
    world: Any, after_due: Assignment
):
    submission = graded(world, world.bob)
    feedback(submission, status=Feedback.Status.RELEASED)
    token = api_token_create(user=world.bob)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = client.get(f"/api/submissions/{submission.pk}").json()
    assert body["score"] is None and body["hidden_tests"]["score"] is None
    assert body["release"]["released"] is False and body["release"]["until"]
    assert client.get(f"/api/submissions/{submission.pk}/feedback").status_code == 404
    _move_due(after_due, timedelta(hours=-2))
    body = client.get(f"/api/submissions/{submission.pk}").json()
    assert body["score"] == 1 and body["hidden_tests"]["score"] == 0
    assert client.get(f"/api/submissions/{submission.pk}/feedback").status_code == 200


def test_the_sweep_releases_at_each_students_due_date_and_sends_the_full_result_once(
    world: Any, after_due: Assignment, hooked: CourseIntegration,
    django_capture_on_commit_callbacks: Any,
):
    from grader.lms.webhooks import submission_graded_notify
    from grader.ops.tasks import sweep_task

    mine, bobs = graded(world, world.alice), graded(world, world.bob)
    feedback(bobs, status=Feedback.Status.RELEASED)
    submission_graded_notify(bobs.pk)
    graded_event = WebhookDelivery.objects.get(submission=bobs)
    assert graded_event.payload["results"][SECRET_TOTAL] is None
    assert graded_event.payload["results"]["hidden_tests"]["score"] is None

    sweep_task()  # before the due date: nothing
    assert not ResultsRelease.objects.exists()

    _move_due(after_due, timedelta(hours=-2))  # bob's deadline passed; alice's is tomorrow
    with django_capture_on_commit_callbacks():
        report = sweep_task()
    assert report["results_released"] == 1
    assert ResultsRelease.objects.filter(submission=bobs).exists()
    assert not ResultsRelease.objects.filter(submission=mine).exists()
    events = dict(WebhookDelivery.objects.filter(submission=bobs).values_list("event", "payload"))
    assert events["results.released"]["results"][SECRET_TOTAL] == 1
    assert events["feedback.released"]["feedback"]["line"] == 3
    assert sweep_task()["results_released"] == 0  # once

    Extension.objects.filter(student=world.alice).update(due_at=timezone.now())
    assert sweep_task()["results_released"] == 1
    assert ResultsRelease.objects.filter(submission=mine).exists()


def test_an_explanation_approved_before_release_is_sent_at_release_not_at_approval(
    world: Any, after_due: Assignment, hooked: CourseIntegration,
    django_capture_on_commit_callbacks: Any,
):
    from grader.feedback.services import feedback_release
    from grader.feedback_loop.models import Release
    from grader.lms.release import results_release_sweep

    submission = graded(world, world.bob)
    pending = feedback(submission, status=Feedback.Status.PENDING_REVIEW)
    with django_capture_on_commit_callbacks(execute=True):
        feedback_release(feedback=pending)
    assert not WebhookDelivery.objects.filter(event="feedback.released").exists()
    assert not Release.objects.exists()  # the student cannot read it yet
    _move_due(after_due, timedelta(hours=-2))
    results_release_sweep()
    assert WebhookDelivery.objects.filter(event="feedback.released").count() == 1
    assert Release.objects.filter(feedback=pending).exists()


def test_after_review_waits_for_the_teachers_release(world: Any, hooked: CourseIntegration):
    a = world.assignment
    a.release_policy = Assignment.ReleasePolicy.AFTER_REVIEW
    a.save()
    submission = graded(world, world.bob)
    client = Client()
    client.force_login(world.bob)
    page = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "when your teacher releases them" in page and "1 / 4" not in page
    student_release = client.post(f"/assignments/{a.pk}/release/")
    assert student_release.status_code == 404
    teacher = Client()
    teacher.force_login(world.teacher)
    ta = Client()
    ta.force_login(world.ta)
    assert ta.post(f"/assignments/{a.pk}/release/").status_code == 404  # teachers only
    assert teacher.post(f"/assignments/{a.pk}/release/").status_code == 302
    assert "1 / 4" in client.get(f"/submissions/{submission.pk}/").content.decode()
    assert WebhookDelivery.objects.filter(event="results.released", submission=submission).exists()


def test_a_submission_graded_after_release_is_not_released_again(
    world: Any, after_due: Assignment, hooked: CourseIntegration
):
    from grader.lms.release import release_on_graded, results_release_sweep

    _move_due(after_due, timedelta(hours=-2))
    late = graded(world, world.bob)
    release_on_graded(late.pk)
    assert ResultsRelease.objects.get(submission=late).was_withheld is False
    assert results_release_sweep() == []


def test_after_due_needs_a_due_date_in_the_settings(world: Any):
    from grader.courses.forms import AssignmentSettingsForm

    form = AssignmentSettingsForm(
        {"release_policy": "after_due", "late_penalty_percent": 0, "cooldown_minutes": 0},
        instance=world.assignment,
    )
    assert not form.is_valid() and "release_policy" in form.errors


def test_an_unchanged_grade_sends_no_second_webhook(world: Any, hooked: CourseIntegration):
    from grader.lms.webhooks import submission_graded_notify

    submission = graded(world, world.bob)
    submission_graded_notify(submission.pk)
    submission_graded_notify(submission.pk)  # a regrade with the same results
    assert WebhookDelivery.objects.filter(submission=submission).count() == 1
    TestResult.objects.filter(submission=submission, name="test_negative").update(
        verdict="passed", score=1
    )
    type(submission).objects.filter(pk=submission.pk).update(score=2)
    submission_graded_notify(submission.pk)
    assert WebhookDelivery.objects.filter(submission=submission).count() == 2


def test_a_reports_sanity_flag_is_stored_with_the_result(world: Any):
    from grader.grading.services import submission_store_report
    from grader.submissions.services import submission_create
    from sandbox.grade import GradeReport
    from sandbox.outcome import TestOutcome
    from sandbox.types import Verdict

    submission = submission_create(assignment=world.assignment, student=world.bob,
                                   uploads=[("solution.py", b"def add(a, b): return a + b\n")])
    report = GradeReport(score=1, max_score=3, tests=[
        TestOutcome("runs at all", 1, 1, Verdict.PASSED, "hidden", "", sanity=True),
        TestOutcome("big numbers", 0, 2, Verdict.FAILED, "hidden", "SECRET"),
    ])
    assert submission_store_report(submission=submission, report=report)
    assert dict(submission.results.values_list("name", "sanity")) == {
        "runs at all": True, "big numbers": False
    }


def test_switching_to_immediate_releases_towards_the_lms_at_once(
    world: Any, after_due: Assignment, hooked: CourseIntegration
):
    submission = graded(world, world.bob)
    teacher = Client()
    teacher.force_login(world.teacher)
    answer = teacher.post(f"/assignments/{after_due.pk}/edit/", {
        "action": "settings", "due_at": timezone.localtime(after_due.due_at).strftime(
            "%Y-%m-%dT%H:%M"), "late_penalty_percent": 0, "max_attempts": 3,
        "cooldown_minutes": 0, "is_published": "on", "release_policy": "immediate",
    })
    assert answer.status_code == 302
    assert ResultsRelease.objects.filter(submission=submission, was_withheld=True).exists()
    released = WebhookDelivery.objects.get(submission=submission, event="results.released")
    assert released.payload["results"]["score"] == 1
