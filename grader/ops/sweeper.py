"""The sweeper: the database is the truth, the broker only a hint.

Run periodically (Celery beat, task ``ops.sweep``). Two kinds of rows need help:

* QUEUED for longer than ``SWEEPER_QUEUED_AFTER`` s: the message may be lost (Redis restarted
  with nothing on disk, the broker was down when the upload committed). Send it again to the
  row's queue. A duplicate is harmless: the claim is a conditional UPDATE, so only one delivery
  grades the row.
* RUNNING for longer than ``SWEEPER_RUNNING_AFTER`` s (past the task's hard time limit): the
  worker that claimed it is dead (SIGKILL, OOM, host lost) or its task was killed. Put the row
  back to QUEUED and send it again; after ``SWEEPER_MAX_RECOVERIES`` recoveries give up with
  FAILED_INFRA and a message, so a submission that kills workers cannot loop forever.

A worker that is merely slow cannot be overtaken: its task is killed at the hard limit, and
even if it were not, storing results requires its claim (grading.services) which the recovery
has replaced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from grader.submissions.models import Submission

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    resent: list[int] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def submissions_sweep(*, now: datetime | None = None, limit: int = 1000) -> SweepReport:
    """One sweep; safe to run concurrently with workers and with another sweep."""
    now = now or timezone.now()
    report = SweepReport()
    queued_before = now - timedelta(seconds=settings.SWEEPER_QUEUED_AFTER)
    running_before = now - timedelta(seconds=settings.SWEEPER_RUNNING_AFTER)
    Status = Submission.Status
    to_send: list[tuple[int, str]] = []

    stale_running = Submission.objects.filter(
        status=Status.RUNNING, started_at__lt=running_before
    ).values_list("id", "started_at", "recoveries")[:limit]
    for submission_id, started_at, recoveries in stale_running:
        # Conditional on the exact claim we saw: a row a worker just finished is left alone.
        rows = Submission.objects.filter(
            id=submission_id, status=Status.RUNNING, started_at=started_at
        )
        if recoveries >= settings.SWEEPER_MAX_RECOVERIES:
            if rows.update(
                status=Status.FAILED_INFRA,
                finished_at=now,
                error=(
                    f"the worker grading this submission died {recoveries + 1} times "
                    "(killed, out of memory or past the hard time limit); gave up"
                ),
            ):
                report.failed.append(submission_id)
        elif rows.update(
            status=Status.QUEUED, started_at=None, queued_at=now, recoveries=F("recoveries") + 1
        ):
            report.recovered.append(submission_id)

    stale_queued = Submission.objects.filter(
        status=Status.QUEUED, queued_at__lt=queued_before
    ).values_list("id", "queued_at", "queue")[:limit]
    for submission_id, queued_at, queue in stale_queued:
        # Touch queued_at so the next sweep waits another period before re-sending.
        if Submission.objects.filter(
            id=submission_id, status=Status.QUEUED, queued_at=queued_at
        ).update(queued_at=now):
            report.resent.append(submission_id)
            to_send.append((submission_id, queue))
    queues = dict(Submission.objects.filter(id__in=report.recovered).values_list("id", "queue"))
    to_send += [(i, queues.get(i, "grading")) for i in report.recovered]

    def send() -> None:
        from grader.grading.tasks import enqueue_grading

        for submission_id, queue in to_send:
            enqueue_grading(submission_id, queue=queue)

    transaction.on_commit(send)
    if report.resent or report.recovered or report.failed:
        logger.warning(
            "sweeper: resent %d queued, recovered %d running, failed %d",
            len(report.resent),
            len(report.recovered),
            len(report.failed),
        )
    return report
