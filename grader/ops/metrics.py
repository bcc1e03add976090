"""Prometheus metrics, read from the database (and Redis) at scrape time.

The database is the truth, so every web process reports the same numbers and nothing is lost
when a worker restarts: no per-process counters to aggregate.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from grader.grading.models import TestResult
from grader.lib.redis import broker_client
from grader.submissions.models import Submission

LATENCY_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


def redis_queue_lengths() -> dict[str, int] | None:
    """Messages waiting in Redis per queue (kombu keeps each queue as a list); None without
    Redis or when it does not answer."""
    client = broker_client(timeout=1)
    if client is None:
        return None
    try:
        return {q: int(client.llen(q)) for q in settings.TASK_QUEUES}
    except Exception:
        return None


class GraderCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        by_status = GaugeMetricFamily(
            "grader_submissions", "Submissions by status", labels=["status"]
        )
        counts = dict(Submission.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status in Submission.Status.values:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status

        depth = GaugeMetricFamily(
            "grader_queue_depth",
            "Submissions waiting per queue (source=db: QUEUED rows; source=broker: messages)",
            labels=["queue", "source"],
        )
        db_depth = dict(
            Submission.objects.filter(status=Submission.Status.QUEUED)
            .values_list("queue")
            .annotate(n=Count("id"))
            .order_by()
        )
        for queue in settings.GRADING_QUEUES:  # submissions wait in these; feedback has its own
            depth.add_metric([queue, "db"], db_depth.get(queue, 0))
        lengths = redis_queue_lengths()
        for queue, n in (lengths or {}).items():
            depth.add_metric([queue, "broker"], n)
        yield depth

        verdicts = CounterMetricFamily(
            "grader_test_verdicts", "Stored test results by verdict", labels=["verdict"]
        )
        verdict_counts = dict(
            TestResult.objects.values_list("verdict").annotate(n=Count("id")).order_by()
        )
        for verdict in TestResult.Verdict.values:
            verdicts.add_metric([verdict], verdict_counts.get(verdict, 0))
        yield verdicts

        recoveries = CounterMetricFamily(
            "grader_sweeper_recoveries", "RUNNING submissions recovered from dead workers"
        )
        total = Submission.objects.aggregate(n=Sum("recoveries"))["n"] or 0
        recoveries.add_metric([], total)
        yield recoveries

        yield self._latency()

    def _latency(self) -> Metric:
        """Upload → result (created_at → finished_at) of interactive submissions; regrades on
        the batch queue would only measure how old the submission is."""
        latency = ExpressionWrapper(
            F("finished_at") - F("created_at"), output_field=DurationField()
        )
        rows = Submission.objects.filter(
            status=Submission.Status.GRADED, queue="grading", finished_at__isnull=False
        ).annotate(latency=latency)
        aggregates = {
            f"le{i}": Count("id", filter=Q(latency__lte=timedelta(seconds=b)))
            for i, b in enumerate(LATENCY_BUCKETS)
        }
        result = rows.aggregate(total=Count("id"), sum=Sum("latency"), **aggregates)
        buckets = [(str(b), result[f"le{i}"] or 0) for i, b in enumerate(LATENCY_BUCKETS)] + [
            ("+Inf", result["total"] or 0)
        ]
        total_seconds = result["sum"].total_seconds() if result["sum"] else 0.0
        family = HistogramMetricFamily(
            "grader_grading_latency_seconds",
            "Upload to stored result, interactive queue",
        )
        family.add_metric([], buckets, total_seconds)
        return family
