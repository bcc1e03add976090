"""Celery tasks for LTI: thin wrappers that take IDs and call one service."""

from __future__ import annotations

from celery import shared_task

from grader.lms.lti.services import lti_score_post_attempt


@shared_task(name="lti.post_score", acks_late=True)
def post_score_task(post_id: int) -> None:
    # As for webhooks: the attempt counter in the row is the truth; the next try is a new
    # message with a countdown, so a lost or duplicated message neither skips nor repeats one.
    delay = lti_score_post_attempt(post_id=post_id)
    if delay is not None:
        post_score_task.apply_async((post_id,), countdown=delay)
