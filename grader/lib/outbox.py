"""Re-send outbox rows whose task message was lost (broker restarted, countdown dropped)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# A countdown's message runs at or after the row's next_attempt_at on the clock that set it; the
# slack covers another worker's clock being a little behind. A message early by more than this
# is a second copy (see is_due); a first copy dropped by a clock far behind is the sweeper's.
DUE_SLACK = timedelta(seconds=2)


def is_due(next_attempt_at: datetime | None, *, now: datetime | None = None) -> bool:
    """Whether a try whose row says ``next_attempt_at`` may run now. Each try moves
    ``next_attempt_at`` forward (or finishes the row) and queues the message for the next one,
    so a message that arrives well before it is a second copy of a message whose try already
    ran: the caller does nothing, and the retry chain stays one chain with its back-off."""
    return next_attempt_at is None or next_attempt_at <= (now or timezone.now()) + DUE_SLACK


def resend_overdue(stale: models.QuerySet[Any], *, pending: str, now: datetime, limit: int,
                   send: Callable[[int], object], what: str) -> list[int]:
    """Claim each of the first ``limit`` rows of ``stale`` (pending rows whose next try is
    overdue) by moving its ``next_attempt_at`` to ``now`` only if it is still pending at the
    value read, so two sweeps running at once never both re-send it; then ``send(id)`` each
    claimed row once the transaction commits. Returns the ids claimed. If the original message
    was only late, it runs too; whichever copy comes second finds the try done and the next
    one not due (``is_due``) and does nothing."""
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
