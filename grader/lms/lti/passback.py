"""Writes for LTI 1.3 AGS score passback: a score post per grade target when a student's latest
graded submission changes what the LMS would be told, its tries, and the sweep of overdue ones.
Launches, roster and keys are grader.lms.lti.services.
"""

from __future__ import annotations

import logging
from datetime import UTC, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector

from grader.lib.outbox import is_due, resend_overdue
from grader.lms.lti.models import LtiGradeTarget, LtiLineItem, LtiScorePost
from grader.lms.lti.services import SCORE_SCOPE
from grader.lms.lti.tool import http_session, registration_for
from grader.submissions.models import Submission

logger = logging.getLogger(__name__)

# Theory of operation. A score post is a row (LtiScorePost), the broker message only a hint.
# * Only the student's latest graded submission is posted, and only when the value the LMS
#   would get (score, maximum, grading progress) differs from the last one queued or sent for
#   that target: a regrade that changes nothing sends nothing.
# * While the release policy withholds the score (grader.courses.release), the LMS gets
#   gradingProgress "Pending" and no scoreGiven: it learns the work was submitted, not a
#   number that gives hidden points away. The full score is posted at release
#   (grader.lms.release, from the periodic sweep).
# * Latest wins whatever order deliveries finish in: each try runs under a lock on its target
#   row and is dropped (SUPERSEDED) when a post for a later attempt, or a later post for the
#   same submission, exists. So an older score whose retry comes last is never sent after a
#   newer one, and the AGS timestamp (taken under that lock) only grows per target.


def _latest_graded(submission: Submission) -> int | None:
    return (
        Submission.objects.filter(
            assignment_id=submission.assignment_id,
            student_id=submission.student_id,
            status=Submission.Status.GRADED,
        )
        .order_by("-attempt")
        .values_list("pk", flat=True)
        .first()
    )


def lti_score_value(submission: Submission) -> tuple[float | None, float, str]:
    """What the LMS may be told of this submission now: (scoreGiven, scoreMaximum,
    gradingProgress); no scoreGiven while the release policy withholds it."""
    from grader.courses.release import release_state

    maximum = float(submission.max_score or 0)
    if release_state(assignment=submission.assignment, student=submission.student).withheld:
        return None, maximum, LtiScorePost.PENDING_RELEASE
    return float(submission.score or 0), maximum, LtiScorePost.FULLY_GRADED


def lti_submission_graded(
    submission_id: int, *, resend: bool = False, target_id: int | None = None
) -> list[LtiScorePost]:
    """GRADED_HOOKS entry (and the release's): queue a score post for each LTI grade target of
    the submission's student and assignment, if this is their latest graded submission and the
    value changed since the last post (``resend``: a teacher's, sent even if unchanged)."""
    submission = (
        Submission.objects.select_related("assignment", "student").filter(pk=submission_id).first()
    )
    if submission is None or submission.status != "graded" or submission.max_score is None:
        return []
    if _latest_graded(submission) != submission.pk:
        return []  # an older attempt finishing late never overwrites a newer score
    value = lti_score_value(submission)
    targets = LtiGradeTarget.objects.filter(
        lti_user__user_id=submission.student_id, assignment_id=submission.assignment_id
    )
    if target_id is not None:
        targets = targets.filter(pk=target_id)
    from grader.lms.lti.tasks import post_score_task  # tasks import this module

    created = []
    for target in targets:
        if SCORE_SCOPE not in target.scopes or not (target.lineitem_url or target.lineitems_url):
            logger.info("lti: no score scope or line item for target %s, not posting", target.pk)
            continue
        last = (
            target.posts.exclude(status__in=[LtiScorePost.Status.FAILED,
                                             LtiScorePost.Status.SUPERSEDED])
            .order_by("-id")
            .first()
        )
        if not resend and last is not None and last.value == value:
            logger.info("lti: target %s already has %s, not posting again", target.pk, value)
            continue
        post = LtiScorePost.objects.create(
            submission=submission,
            target=target,
            score_given=value[0],
            score_maximum=value[1],
            grading_progress=value[2],
            resend=resend,
            next_attempt_at=timezone.now(),
        )
        created.append(post)
        transaction.on_commit(partial(post_score_task.delay, post.pk))
    return created


def lti_score_resend(*, target: LtiGradeTarget) -> list[LtiScorePost]:
    """A teacher's resend: post the current value of the student's latest graded submission
    to this target again, changed or not."""
    latest = (
        Submission.objects.filter(
            assignment_id=target.assignment_id,
            student_id=target.lti_user.user_id,
            status=Submission.Status.GRADED,
        )
        .order_by("-attempt")
        .first()
    )
    if latest is None:
        return []
    return lti_submission_graded(latest.pk, resend=True, target_id=target.pk)


def ags_service(target: LtiGradeTarget) -> AssignmentsGradesService:
    platform = target.lti_user.platform
    connector = ServiceConnector(registration_for(platform), http_session())
    return AssignmentsGradesService(
        connector,
        {
            "scope": target.scopes,
            "lineitem": target.lineitem_url,
            "lineitems": target.lineitems_url,
        },
    )


def resource_id_for(assignment_id: int) -> str:
    """The resource id the tool gives an assignment's line item (and deep-linked ones' tag)."""
    return f"grader-assignment-{assignment_id}"


def lti_lineitem_url(*, target: LtiGradeTarget, score_maximum: float) -> str:
    """The line item a target's scores go to: the launch's own, else the one for the
    assignment in the platform's container, looked up by resource id before it is created.

    The lookup and creation run under the lock of one LtiLineItem row per (container, resource
    id), so concurrent first scores of two students create one line item, not two."""
    if target.lineitem_url:
        return target.lineitem_url
    resource_id = resource_id_for(target.assignment_id)
    with transaction.atomic():
        row, _ = LtiLineItem.objects.select_for_update().get_or_create(
            lineitems_url=target.lineitems_url, resource_id=resource_id
        )
        if not row.lineitem_url:
            item = ags_service(target).find_or_create_lineitem(
                LineItem()
                .set_resource_id(resource_id)
                .set_tag(resource_id)
                .set_label(target.assignment.title)
                .set_score_maximum(score_maximum or 1),
                find_by="resource_id",
            )
            row.lineitem_url = item.get_id() or ""
            if not row.lineitem_url:
                raise LtiException("the platform returned a line item without an id")
            row.save(update_fields=["lineitem_url"])
    return row.lineitem_url


def _superseded(post: LtiScorePost) -> bool:
    """A newer post for the same target exists: a later attempt's, or a later one of the same
    submission (a regrade, a release, a resend)."""
    attempt = post.submission.attempt
    newer = LtiScorePost.objects.filter(target_id=post.target_id).exclude(pk=post.pk)
    return newer.filter(
        Q(submission__attempt__gt=attempt) | Q(submission__attempt=attempt, pk__gt=post.pk)
    ).exists()


def lti_score_post_attempt(*, post_id: int) -> float | None:
    """One try at posting a score. Returns the delay before the next try, or None when done
    (sent, given up, superseded, or nothing to do).

    The try holds the lock of the target's row while it talks to the platform (at most
    LTI_HTTP_TIMEOUT_SECONDS a request): tries for the same student and line item run one at a
    time, so the newest post is always the last one sent. A second copy of a message finds the
    post sent, or its next try not due (``grader.lib.outbox.is_due``), and does nothing."""
    with transaction.atomic():
        target_id = (
            LtiScorePost.objects.filter(pk=post_id).values_list("target_id", flat=True).first()
        )
        if target_id is None:
            return None
        LtiGradeTarget.objects.select_for_update().filter(pk=target_id).first()
        post = (
            LtiScorePost.objects.select_related(
                "target__lti_user__platform", "target__assignment", "submission__assignment",
                "submission__student",
            )
            .filter(pk=post_id, status=LtiScorePost.Status.PENDING)
            .first()
        )
        if post is None:
            return None
        if _superseded(post):
            post.status = LtiScorePost.Status.SUPERSEDED
            post.next_attempt_at = None
            post.save(update_fields=["status", "next_attempt_at"])
            logger.info("lti score post %s superseded by a newer one, not sent", post.pk)
            return None
        if not is_due(post.next_attempt_at):
            return None  # a second copy of a message: its try ran, the next one's message waits
        return _post_score(post)


def _post_score(post: LtiScorePost) -> float | None:
    grade = (
        Grade()
        .set_score_maximum(post.score_maximum)
        .set_activity_progress("Completed" if post.score_given is not None else "Submitted")
        .set_grading_progress(post.grading_progress)
        # Taken under the target's lock: it only grows per (line item, user), as AGS requires.
        .set_timestamp(timezone.now().isoformat())
        .set_user_id(post.target.lti_user.sub)
    )
    if post.score_given is not None:
        grade.set_score_given(post.score_given)
    else:
        grade.set_comment(_pending_comment(post.submission))
    post.attempts += 1
    fields = ["attempts", "last_error", "status", "status_code", "next_attempt_at", "sent_at"]
    try:
        lineitem_url = lti_lineitem_url(target=post.target, score_maximum=post.score_maximum)
        service = ags_service(post.target)
        answer = service.put_grade(grade, LineItem({"id": lineitem_url}))  # type: ignore[typeddict-item]
    except Exception as exc:  # network, token refusal, 4xx/5xx from the platform
        response = getattr(exc, "response", None)
        post.status_code = getattr(response, "status_code", None)
        post.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if post.attempts >= settings.LTI_SCORE_MAX_ATTEMPTS:
            post.status = LtiScorePost.Status.FAILED
            post.next_attempt_at = None
            post.save(update_fields=fields)
            logger.error(
                "lti score post %s gave up after %s tries: %s",
                post.pk,
                post.attempts,
                post.last_error,
            )
            return None
        delay = float(settings.LTI_SCORE_BACKOFF_SECONDS * 2 ** (post.attempts - 1))
        post.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        post.save(update_fields=fields)
        logger.warning(
            "lti score post %s failed (try %s), retry in %ss: %s",
            post.pk,
            post.attempts,
            delay,
            post.last_error,
        )
        return delay
    post.status = LtiScorePost.Status.SENT
    post.status_code = _status_code(answer)
    post.sent_at = timezone.now()
    post.next_attempt_at = None
    post.last_error = ""
    post.save(update_fields=fields)
    logger.info(
        "lti score post %s sent: %s/%s (%s) for sub %s",
        post.pk,
        post.score_given,
        post.score_maximum,
        post.grading_progress,
        post.target.lti_user.sub,
    )
    return None


def _pending_comment(submission: Submission) -> str:
    """What the LMS shows the student beside a withheld grade: what waits, and until when."""
    from grader.courses.release import release_state

    state = release_state(assignment=submission.assignment, student=submission.student)
    if state.until is not None:
        when = f"after the due date, {state.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    elif state.waits_for_teacher:
        when = "when your teacher releases it"
    else:
        when = "after the due date"
    return f"Submitted and graded; the score (hidden tests included) is released {when}."


def _status_code(answer: Any) -> int | None:
    """pylti1p3 returns the body and headers, not the status: a success is a 2xx, and 200 is
    what AGS platforms answer to a score."""
    return 200 if isinstance(answer, dict) else None


def lti_score_posts_sweep(*, now: Any = None, limit: int = 1000) -> list[int]:
    """Re-send the task of every pending score post whose next try is overdue by more than
    SWEEPER_QUEUED_AFTER s (its message was lost: broker restarted, countdown dropped). Safe
    with live workers: the try runs under the target's lock and checks the row."""
    from grader.lms.lti.tasks import post_score_task

    now = now or timezone.now()
    overdue = now - timedelta(seconds=settings.SWEEPER_QUEUED_AFTER)
    stale = LtiScorePost.objects.filter(status=LtiScorePost.Status.PENDING).filter(
        Q(next_attempt_at__lt=overdue) | Q(next_attempt_at__isnull=True, created_at__lt=overdue)
    )
    return resend_overdue(stale, pending=LtiScorePost.Status.PENDING, now=now, limit=limit,
                          send=post_score_task.delay, what="lti score posts")
