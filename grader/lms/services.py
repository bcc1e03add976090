"""Writes for the LMS integration: API tokens and inbound submissions (signed webhooks from
the LMS). Outbound deliveries are grader.lms.webhooks; LTI is grader.lms.lti."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from grader.courses.models import Assignment, Course
from grader.lib.errors import Conflict
from grader.lms.models import (
    ApiToken,
    InboundSubmission,
)
from grader.submissions.models import Submission
from grader.submissions.services import submission_create

logger = logging.getLogger(__name__)


def api_token_create(*, user: Any, name: str = "") -> str:
    """Create a token for ``user`` and return it; only its hash is kept, so this is the only
    time anyone sees it."""
    key = "grd_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, name=name, prefix=key[:10], key_sha256=hashlib.sha256(key.encode()).hexdigest()
    )
    return key


# --- inbound -------------------------------------------------------------------------------


@dataclass
class InboundResult:
    submission: Submission
    duplicate: bool


class IdempotencyConflict(Conflict):
    """The idempotency key was used before with a different body."""

    code = "idempotency_conflict"


def inbound_submission_receive(
    *,
    course: Course,
    idempotency_key: str,
    body: bytes,
    assignment: Assignment,
    student: Any,
    uploads: list[tuple[str, bytes]],
) -> InboundResult:
    """Create the submission an LMS sent, once per idempotency key.

    A retried delivery (same key, same body) returns the first submission; the same key with
    another body raises IdempotencyConflict. Two copies arriving at once race on the unique key:
    the loser's submission is rolled back with its transaction and it returns the winner's.
    """
    body_sha256 = hashlib.sha256(body).hexdigest()

    def existing() -> InboundResult | None:
        row = (
            InboundSubmission.objects.select_related("submission")
            .filter(course=course, idempotency_key=idempotency_key)
            .first()
        )
        if row is None:
            return None
        if row.body_sha256 != body_sha256:
            raise IdempotencyConflict(
                "This Idempotency-Key was already used for a different request body."
            )
        return InboundResult(row.submission, duplicate=True)

    found = existing()
    if found:
        return found
    try:
        with transaction.atomic():
            submission = submission_create(assignment=assignment, student=student, uploads=uploads)
            InboundSubmission.objects.create(
                course=course,
                idempotency_key=idempotency_key,
                body_sha256=body_sha256,
                submission=submission,
            )
    except IntegrityError:
        found = existing()
        if found is None:
            raise
        return found
    return InboundResult(submission, duplicate=False)
