"""Celery tasks: thin wrappers that take IDs and call one service."""

from __future__ import annotations

from celery import shared_task

from grader.lms.webhooks import webhook_delivery_attempt


@shared_task(name="lms.deliver_webhook", acks_late=True)
def deliver_webhook_task(delivery_id: int) -> None:
    # The next try is a new message with a countdown, not self.retry(): the row is the truth.
    # A lost message is re-sent by the sweeper (grader.lib.outbox). Two copies of one message
    # never both POST: each try is claimed by a conditional UPDATE of the attempt counter, and
    # a copy that comes after the try finds the delivery done or its next try not due yet.
    delay = webhook_delivery_attempt(delivery_id=delivery_id)
    if delay is not None:
        deliver_webhook_task.apply_async((delivery_id,), countdown=delay)
