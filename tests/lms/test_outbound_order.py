"""Outbound grade webhooks to a local receiver: the newest grade of a student wins whatever
order the tries finish in, an unchanged grade is not sent twice, and the sweep re-sends a
delivery whose message was lost."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from grader.lms.models import CourseIntegration, WebhookDelivery
from grader.lms.webhooks import (
    submission_graded_notify,
    webhook_deliveries_sweep,
    webhook_delivery_attempt,
)
from grader.submissions.models import Submission
from tests.feedback_loop.factories import graded
from tests.lms.test_outbound import Receiver


@pytest.fixture
def receiver(world: Any, settings: Any) -> Any:
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True  # the receiver is on loopback
    settings.GRADED_HOOKS = []
    r = Receiver()
    CourseIntegration.objects.create(course=world.course, secret="s3cret", callback_url=r.url)
    yield r
    r.close()


def _scores(receiver: Any) -> list[float]:
    return [json.loads(body)["results"]["score"] for _, body in receiver.requests]


def test_an_older_grade_retried_after_a_newer_one_is_not_sent(world: Any, receiver: Any):
    first = graded(world, world.bob)
    submission_graded_notify(first.pk)
    old = WebhookDelivery.objects.get(submission=first)
    receiver.script = [503]
    assert webhook_delivery_attempt(delivery_id=old.pk) is not None  # retry later

    second = graded(world, world.bob)
    Submission.objects.filter(pk=second.pk).update(score=4)
    submission_graded_notify(second.pk)
    new = WebhookDelivery.objects.get(submission=second)
    assert webhook_delivery_attempt(delivery_id=new.pk) is None  # delivered
    assert webhook_delivery_attempt(delivery_id=old.pk) is None  # the old retry comes last
    old.refresh_from_db()
    assert old.status == WebhookDelivery.Status.SUPERSEDED
    assert _scores(receiver) == [1, 4]  # the 503'd try, then the newest; never the old again


def test_another_students_grade_does_not_supersede(world: Any, receiver: Any):
    bobs, alices = graded(world, world.bob), graded(world, world.alice)
    submission_graded_notify(bobs.pk)
    submission_graded_notify(alices.pk)
    for delivery in WebhookDelivery.objects.order_by("-id"):
        webhook_delivery_attempt(delivery_id=delivery.pk)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_the_sweep_resends_a_delivery_whose_message_was_lost(
    world: Any, receiver: Any, settings: Any, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
):
    from grader.lms import tasks

    submission = graded(world, world.bob)
    submission_graded_notify(submission.pk)  # its task message is never sent (no on_commit here)
    delivery = WebhookDelivery.objects.get()
    assert webhook_deliveries_sweep() == []  # not overdue yet
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=settings.SWEEPER_QUEUED_AFTER + 5)
    )
    monkeypatch.setattr(tasks.deliver_webhook_task, "delay", tasks.deliver_webhook_task)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_sweep() == [delivery.pk]
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.DELIVERED and _scores(receiver) == [1]
