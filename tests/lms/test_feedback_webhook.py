"""The ``feedback.released`` webhook: every way feedback is released (a teacher approves it,
edits and releases it, bulk-approves, or the model's agreement releases it automatically) POSTs
it, signed, to the course's LMS through the same delivery path as ``submission.graded``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from grader.feedback.models import Feedback
from grader.feedback.services import (
    feedback_bulk_release,
    feedback_collect_traces,
    feedback_edit_and_release,
    feedback_generate,
    feedback_reject,
    feedback_release,
)
from grader.lms.models import CourseIntegration, WebhookDelivery
from grader.lms.signing import verify
from tests.feedback.test_services import graded as really_graded
from tests.lms.conftest import graded_submission
from tests.lms.test_outbound import Receiver

pytestmark = pytest.mark.django_db
SECRET = "feedback-secret"
EVENT = "feedback.released"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def eager(settings):
    from grader.celery import app as celery_app

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver is on loopback
    settings.LMS_WEBHOOK_MAX_ATTEMPTS = 3
    settings.LMS_WEBHOOK_TIMEOUT_SECONDS = 2
    settings.LMS_WEBHOOK_BACKOFF_SECONDS = 0.01
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # the delivery and its retries run inline
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def integration(world, receiver):
    return CourseIntegration.objects.create(
        course=world.course, secret=SECRET, callback_url=receiver.url
    )


def pending_feedback(submission: Any, **fields: Any) -> Feedback:
    values = {
        "status": Feedback.Status.PENDING_REVIEW,
        "line": 1,
        "category": "wrong_operator",
        "explanation": "It subtracts instead of adding.",
        "hint": "Which operator adds?",
        "agreement": 0.8,
        "verification": "validated",
        "repair": "    return SECRET_REPAIR",
    }
    return Feedback.objects.create(submission=submission, **{**values, **fields})


def released_bodies(receiver: Receiver) -> list[dict[str, Any]]:
    """The feedback.released POSTs the receiver got, each checked against the signature."""
    bodies = []
    for headers, body in receiver.requests:
        verify(headers["X-Grader-Signature"], secret=SECRET, body=body, tolerance=300)
        if headers["X-Grader-Event"] == EVENT:
            bodies.append(json.loads(body))
    return bodies


def test_approved_feedback_is_posted_signed_with_the_results_and_the_feedback(
    world, receiver, integration, eager, django_capture_on_commit_callbacks
):
    submission = graded_submission(world, world.alice)
    feedback = pending_feedback(submission)
    with django_capture_on_commit_callbacks(execute=True):
        feedback_release(feedback=feedback)
    delivery = WebhookDelivery.objects.get(event=EVENT)
    assert delivery.status == "delivered" and delivery.submission_id == submission.pk
    [data] = released_bodies(receiver)
    assert "SECRET_REPAIR" not in json.dumps(data)  # the checked repair is teacher-only
    assert data["event"] == EVENT and data["delivery_id"] == delivery.pk
    assert data["feedback"] == {
        "status": "released",
        "line": 1,
        "category": "wrong_operator",
        "explanation": "It subtracts instead of adding.",
        "hint": "Which operator adds?",
        "agreement": 0.8,
        "verification": "validated",
    }
    results = data["results"]
    assert results["submission_id"] == submission.pk and results["student"]["username"] == "alice"
    assert [t["name"] for t in results["tests"]] == ["visible one"]
    assert b"SECRET" not in receiver.requests[0][1]  # hidden tests stay hidden


def test_nothing_is_sent_before_the_release_commits_or_for_rejected_feedback(
    world, receiver, integration, eager, django_capture_on_commit_callbacks
):
    feedback = pending_feedback(graded_submission(world, world.alice))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        feedback_release(feedback=feedback)
    assert len(callbacks) == 1 and not WebhookDelivery.objects.exists()
    # Rejected before the callback ran: it reads the row as it is then and sends nothing.
    feedback_reject(feedback=feedback)
    callbacks[0]()
    assert not WebhookDelivery.objects.exists() and receiver.requests == []


def test_edited_feedback_is_sent_with_the_teachers_text(
    world, receiver, integration, eager, django_capture_on_commit_callbacks
):
    feedback = pending_feedback(graded_submission(world, world.alice))
    with django_capture_on_commit_callbacks(execute=True):
        feedback_edit_and_release(
            feedback=feedback, explanation="  Look at the operator.  ", hint="Plus, not minus."
        )
    [data] = released_bodies(receiver)
    assert data["feedback"]["explanation"] == "Look at the operator."
    assert data["feedback"]["hint"] == "Plus, not minus."


def test_bulk_release_sends_one_webhook_per_released_feedback(
    world, receiver, integration, eager, django_capture_on_commit_callbacks
):
    high = pending_feedback(graded_submission(world, world.alice), agreement=0.9)
    low = pending_feedback(graded_submission(world, world.bob), agreement=0.3)
    with django_capture_on_commit_callbacks(execute=True):
        assert feedback_bulk_release(course=world.course, min_agreement=0.5) == 1
    [data] = released_bodies(receiver)
    assert data["results"]["submission_id"] == high.submission_id
    assert not WebhookDelivery.objects.filter(submission=low.submission).exists()


def test_approving_feedback_students_already_see_sends_no_second_webhook(
    world, receiver, integration, eager, django_capture_on_commit_callbacks
):
    feedback = pending_feedback(
        graded_submission(world, world.alice), status=Feedback.Status.AUTO_RELEASED
    )
    with django_capture_on_commit_callbacks(execute=True):
        feedback_release(feedback=feedback)
    assert not WebhookDelivery.objects.exists()


def test_a_failed_feedback_delivery_is_retried_like_any_other(
    world, receiver, integration, eager, django_capture_on_commit_callbacks
):
    receiver.script = [503]
    feedback = pending_feedback(graded_submission(world, world.alice))
    with django_capture_on_commit_callbacks(execute=True):
        feedback_release(feedback=feedback)
    delivery = WebhookDelivery.objects.get(event=EVENT)
    assert [a.status_code for a in delivery.log.all()] == [503, 200]
    assert delivery.status == "delivered"


def test_no_callback_url_means_no_feedback_delivery(world, django_capture_on_commit_callbacks):
    CourseIntegration.objects.create(course=world.course, secret=SECRET, callback_url="")
    feedback = pending_feedback(graded_submission(world, world.alice))
    with django_capture_on_commit_callbacks(execute=True):
        feedback_release(feedback=feedback)
    assert not WebhookDelivery.objects.exists()


@pytest.mark.sandbox
def test_automatically_released_feedback_is_sent(
    world, receiver, integration, eager, settings, django_capture_on_commit_callbacks
):
    settings.FEEDBACK_AUTO_RELEASE_AGREEMENT = 0.5
    settings.GRADED_HOOKS = []  # only the release is under test, not the graded webhook
    submission = really_graded(world, "wrong.py")
    feedback_collect_traces(submission=submission)  # what the graded hook does first
    with django_capture_on_commit_callbacks(execute=True):
        feedback = feedback_generate(submission_id=submission.id)  # search, checked
    assert feedback is not None and feedback.status == Feedback.Status.AUTO_RELEASED
    [data] = released_bodies(receiver)
    assert data["feedback"]["status"] == "auto_released" and data["feedback"]["line"] == 3
    assert data["feedback"]["agreement"] >= 0.5
    assert "repair" not in data["feedback"] and feedback.repair not in json.dumps(data)
    assert data["results"]["submission_id"] == submission.pk
