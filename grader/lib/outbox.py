"""Re-send outbox rows whose task message was lost (broker restarted, countdown dropped)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import models, transaction

logger = logging.getLogger(__name__)


def resend_overdue(stale: models.QuerySet[Any], *, pending: str, now: datetime, limit: int,
                   send: Callable[[int], object], what: str) -> list[int]:
    """Claim each of the first ``limit`` rows of ``stale`` (pending rows whose next try is
    overdue) by moving its ``next_attempt_at`` to ``now`` only if it is still pending at the
    value read, so two sweeps running at once never both re-send it; then ``send(id)`` each
    claimed row once the transaction commits. Returns the ids claimed. The claim does not stop
    the original message if it was only late: that copy runs too, and the task's own claim
    decides what it may still send (see grader/lms/tasks.py, grader/lms/lti/tasks.py)."""
    model = stale.model
    resent = [
        row_id
        for row_id, next_at in stale.values_list("id", "next_attempt_at")[:limit]
        if model.objects.filter(pk=row_id, status=pending, next_attempt_at=next_at)
        .update(next_attempt_at=now)
    ]

    def send_all() -> None:
        for row_id in resent:
            send(row_id)

    transaction.on_commit(send_all)
    if resent:
        logger.warning("sweeper: re-sent %d %s", len(resent), what)
    return resent
