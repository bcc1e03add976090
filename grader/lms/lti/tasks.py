"""Celery tasks for LTI: thin wrappers that take IDs and call one service."""

from __future__ import annotations

from celery import shared_task

from grader.lms.lti.passback import lti_score_post_attempt


@shared_task(name="lti.post_score", acks_late=True)
def post_score_task(post_id: int) -> None:
    # The row is the truth; the next try is a new message with a countdown. A lost message is
    # re-sent by the sweeper (grader.lib.outbox). A duplicated one waits for the target's lock,
    # then finds the score sent or its next try not due yet, and does nothing: a try is neither
    # skipped nor repeated, and the back-off keeps its pace.
    delay = lti_score_post_attempt(post_id=post_id)
    if delay is not None:
        post_score_task.apply_async((post_id,), countdown=delay)
