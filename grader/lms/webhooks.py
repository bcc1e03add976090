"""Outbound webhooks to a course's LMS: the signed ``submission.graded``, ``results.released``
and ``feedback.released`` deliveries, their tries with backoff, redelivery and the sweep of
overdue ones. Subscribers of grader.lib.events (settings.GRADED_HOOKS, FEEDBACK_RELEASED_HOOKS)."""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from grader.courses.models import Course
from grader.courses.release import release_state
from grader.feedback.models import Feedback
from grader.lib.outbound import PostResult, post
from grader.lib.outbox import is_due, resend_overdue
from grader.lms.models import CourseIntegration, WebhookAttempt, WebhookDelivery
from grader.lms.selectors import submission_results_payload
from grader.lms.signing import HEADER, sign_header
from grader.submissions.models import Submission

logger = logging.getLogger(__name__)
GRADED_EVENT = "submission.graded"
RESULTS_RELEASED_EVENT = "results.released"  # the withheld score, at its release
FEEDBACK_RELEASED_EVENT = "feedback.released"
# Events that carry a grade: for one student and assignment only the newest is sent, and an
# unchanged grade is not sent again.
GRADE_EVENTS = (GRADED_EVENT, RESULTS_RELEASED_EVENT)


def _enqueue_delivery(delivery_id: int, countdown: float = 0) -> None:
    from grader.lms.tasks import deliver_webhook_task

    deliver_webhook_task.apply_async((delivery_id,), countdown=countdown)


def submission_graded_notify(submission_id: int) -> None:
    """GRADED_HOOK: queue a signed ``submission.graded`` POST to the course's callback URL.

    The payload follows the student's visibility rules: it goes to a system the student may
    read, so hidden tests appear only as a count and points.
    """
    submission = (
        Submission.objects.select_related("assignment__course", "student")
        .filter(pk=submission_id)
        .first()
    )
    if submission is None:
        return
    _notify(submission=submission, event=GRADED_EVENT, extra={})


def results_released_notify(submission_id: int) -> WebhookDelivery | None:
    """At the release of withheld results (grader.lms.release): queue a ``results.released``
    POST with the results as the student now sees them, score included."""
    submission = (
        Submission.objects.select_related("assignment__course", "student")
        .filter(pk=submission_id, status=Submission.Status.GRADED)
        .first()
    )
    if submission is None:
        return None
    return _notify(submission=submission, event=RESULTS_RELEASED_EVENT, extra={})


def feedback_released_notify(submission_id: int) -> None:
    """After a release commits: queue a signed ``feedback.released`` POST with the student's
    results (as for ``submission.graded``) and the released feedback.

    It reads the feedback when it runs, not when the release was asked for: feedback rejected
    or never released by then is not sent.
    """
    feedback = (
        Feedback.objects.select_related("submission__assignment__course", "submission__student")
        .filter(submission_id=submission_id, status__in=Feedback.VISIBLE_TO_STUDENT)
        .first()
    )
    if feedback is None:
        return
    if release_state(
        assignment=feedback.submission.assignment, student=feedback.submission.student
    ).withheld:
        return  # sent at the release instead (grader.lms.release)
    extra = {
        "feedback": {
            "status": feedback.status,
            "line": feedback.line,
            "category": feedback.category,
            "explanation": feedback.explanation,
            "hint": feedback.hint,
            "agreement": feedback.agreement,
            # How far it was checked in the sandbox; the repair itself is teacher-only.
            "verification": feedback.verification,
        }
    }
    _notify(submission=feedback.submission, event=FEEDBACK_RELEASED_EVENT, extra=extra)


def _grade_of(payload: dict[str, Any]) -> Any:
    """The part of a payload that is the grade: a regrade that changes none of it is not sent
    again (timings and the finish time are not part of a grade)."""
    results = dict(payload.get("results") or {})
    for key in ("execution_time", "finished_at"):
        results.pop(key, None)
    return results


def _notify(
    *, submission: Submission, event: str, extra: dict[str, Any]
) -> WebhookDelivery | None:
    """One delivery of ``event`` to the course's callback URL, if the course has one: the
    student-visible results plus ``extra``, through the one delivery path (sign, log, retry).
    A grade event whose grade equals the last one queued for the submission is not sent."""
    integration = CourseIntegration.objects.filter(
        course=submission.assignment.course_id, enabled=True
    ).first()
    if integration is None or not integration.callback_url:
        return None
    payload = {
        "event": event,
        "results": submission_results_payload(submission=submission, staff=False),
        **extra,
    }
    if event in GRADE_EVENTS:
        last = (
            WebhookDelivery.objects.filter(submission=submission, event__in=GRADE_EVENTS)
            .exclude(status__in=[WebhookDelivery.Status.DEAD, WebhookDelivery.Status.SUPERSEDED])
            .order_by("-id")
            .first()
        )
        if last is not None and _grade_of(last.payload) == _grade_of(payload):
            logger.info("webhook: submission %s's grade is unchanged, not sent", submission.pk)
            return None
    return webhook_delivery_create(
        course=submission.assignment.course,
        submission=submission,
        event=event,
        url=integration.callback_url,
        payload=payload,
    )


@transaction.atomic
def webhook_delivery_create(
    *,
    course: Course,
    submission: Submission | None,
    event: str,
    url: str,
    payload: dict[str, Any],
    redelivery_of: WebhookDelivery | None = None,
) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        course=course,
        submission=submission,
        event=event,
        url=url,
        payload=payload,
        redelivery_of=redelivery_of,
        next_attempt_at=timezone.now(),
    )
    delivery_id = delivery.pk
    transaction.on_commit(lambda: _enqueue_delivery(delivery_id))
    return delivery


def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """A new delivery of the same payload, to the course's current callback URL, with a fresh
    attempt budget; the old one and its log stay as they were."""
    integration = CourseIntegration.objects.filter(course=delivery.course_id).first()
    url = integration.callback_url if integration and integration.callback_url else delivery.url
    return webhook_delivery_create(
        course=delivery.course,
        submission=delivery.submission,
        event=delivery.event,
        url=url,
        payload=delivery.payload,
        redelivery_of=delivery,
    )


def backoff_seconds(attempt: int) -> float:
    """Delay before try ``attempt + 1``: exponential with full jitter (AWS architecture blog),
    so many deliveries failing together do not retry in lockstep."""
    base: float = settings.LMS_WEBHOOK_BACKOFF_SECONDS
    cap: float = settings.LMS_WEBHOOK_BACKOFF_MAX_SECONDS
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _post(url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    """POST once, never following a redirect and refusing non-public targets unless the
    operator allows them (grader/lib/outbound.py). Never raises for network trouble."""
    return post(
        url,
        body,
        headers,
        timeout=settings.LMS_WEBHOOK_TIMEOUT_SECONDS,
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    )


def webhook_delivery_attempt(*, delivery_id: int) -> float | None:
    """Make the next attempt of a pending delivery and log it.

    Returns the delay before the next try, or None when there is nothing more to do (delivered,
    dead, another worker claimed this attempt, or the next try is not due yet). The claim is a
    conditional UPDATE on the attempt counter, so two copies of a broker message running at once
    never POST the same attempt twice; a copy that runs after the try finds the next one not due
    (``grader.lib.outbox.is_due``) and does nothing, so it neither makes a try early nor starts
    a second retry chain.
    """
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_related(
            "course__integration", "submission"
        ).get(pk=delivery_id)
        if delivery.event in GRADE_EVENTS and delivery.submission is not None:
            # Grade events of one student and assignment are tried one at a time (the lock on
            # their rows is held through the POST) and only the newest is sent, so an older
            # grade whose retry comes last never reaches the LMS after a newer one.
            group = WebhookDelivery.objects.filter(
                event__in=GRADE_EVENTS,
                submission__student_id=delivery.submission.student_id,
                submission__assignment_id=delivery.submission.assignment_id,
            )
            list(group.select_for_update(of=("self",)).values_list("id"))
            delivery.refresh_from_db(fields=["status", "attempts", "next_attempt_at"])
            if delivery.status == WebhookDelivery.Status.PENDING and _newer_grade(delivery, group):
                _finish(delivery_id, WebhookDelivery.Status.SUPERSEDED)
                return None
        return _attempt(delivery)


def _newer_grade(delivery: WebhookDelivery, group: Any) -> bool:
    assert delivery.submission is not None
    attempt = delivery.submission.attempt
    return bool(
        group.exclude(pk=delivery.pk)
        .filter(
            Q(submission__attempt__gt=attempt)
            | Q(submission__attempt=attempt, pk__gt=delivery.pk)
        )
        .exists()
    )


def _attempt(delivery: WebhookDelivery) -> float | None:
    delivery_id = delivery.pk
    if delivery.status != WebhookDelivery.Status.PENDING:
        return None
    if not is_due(delivery.next_attempt_at):
        return None  # a second copy of a message: its try ran, the next one's message waits
    number = delivery.attempts + 1
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
    ).update(attempts=number)
    if not claimed:
        return None
    integration = getattr(delivery.course, "integration", None)
    if integration is None or not integration.enabled:
        _finish(delivery_id, WebhookDelivery.Status.DEAD)
        WebhookAttempt.objects.create(
            delivery_id=delivery_id, number=number, error="the course's integration is disabled"
        )
        return None
    body = DjangoJSONEncoder(separators=(",", ":"), sort_keys=True).encode(
        {**delivery.payload, "delivery_id": delivery.pk}
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "grader-webhooks/1",
        HEADER: sign_header(integration.secret, body),
        "X-Grader-Event": delivery.event,
        "X-Grader-Delivery": str(delivery.pk),
    }
    started = timezone.now()
    clock = time.monotonic()
    result = _post(delivery.url, body, headers)
    WebhookAttempt.objects.create(
        delivery_id=delivery_id,
        number=number,
        started_at=started,
        status_code=result.status_code,
        error=result.error,  # the status and what failed, never the receiver's response body
        duration_ms=int((time.monotonic() - clock) * 1000),
    )
    if result.status_code is not None and 200 <= result.status_code < 300:
        _finish(delivery_id, WebhookDelivery.Status.DELIVERED)
        return None
    if not result.retryable or number >= settings.LMS_WEBHOOK_MAX_ATTEMPTS:
        logger.warning("webhook delivery %s is dead after %s attempts", delivery_id, number)
        _finish(delivery_id, WebhookDelivery.Status.DEAD)
        return None
    delay = backoff_seconds(number)
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        next_attempt_at=timezone.now() + timedelta(seconds=delay)
    )
    return delay


def _finish(delivery_id: int, status: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        status=status, finished_at=timezone.now(), next_attempt_at=None
    )


def webhook_deliveries_sweep(*, now: Any = None, limit: int = 1000) -> list[int]:
    """Re-send the task of every pending delivery whose next try is overdue by more than
    SWEEPER_QUEUED_AFTER s: its message was lost (broker restarted, countdown dropped). Safe
    with live workers: the attempt counter claims each try."""
    from grader.lms.tasks import deliver_webhook_task

    now = now or timezone.now()
    overdue = now - timedelta(seconds=settings.SWEEPER_QUEUED_AFTER)
    stale = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=overdue
    )
    return resend_overdue(stale, pending=WebhookDelivery.Status.PENDING, now=now, limit=limit,
                          send=deliver_webhook_task.delay, what="webhook deliveries")
