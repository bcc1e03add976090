"""/healthz and /metrics."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from grader.ops import health
from grader.ops.logs import JsonFormatter
from grader.submissions.models import Submission

pytestmark = pytest.mark.django_db


def test_healthz_reports_each_check_and_200_when_all_pass(client):
    response = client.get("/healthz")
    body = response.json()
    assert set(body["checks"]) == {"database", "broker", "sandbox"}
    assert response.status_code == (200 if body["ok"] else 503)
    assert body["checks"]["database"]["ok"] is True


def test_healthz_is_503_when_the_broker_is_unreachable(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
    monkeypatch.setattr(health, "CHECKS", {"database": health.check_database})
    assert client.get("/healthz").status_code == 200


def test_metrics_exposes_status_queue_depth_verdicts_and_latency(client, world):
    now = timezone.now()
    Submission.objects.create(
        assignment=world.assignment, student=world.alice, attempt=1, status="queued"
    )
    Submission.objects.create(
        assignment=world.assignment, student=world.bob, attempt=1, status="queued", queue="batch"
    )
    Submission.objects.create(
        assignment=world.assignment,
        student=world.alice,
        attempt=2,
        status="graded",
        created_at=now - timedelta(seconds=4),
        finished_at=now,
    )
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'grader_submissions{status="queued"} 2.0' in text
    assert 'grader_queue_depth{queue="grading",source="db"} 1.0' in text
    assert 'grader_queue_depth{queue="batch",source="db"} 1.0' in text
    assert 'grader_grading_latency_seconds_bucket{le="2.5"} 0.0' in text
    assert 'grader_grading_latency_seconds_bucket{le="5.0"} 1.0' in text
    assert "grader_grading_latency_seconds_sum 4.0" in text
    assert 'grader_test_verdicts_total{verdict="passed"} 0.0' in text


def test_json_log_lines_are_one_object_with_extras():
    record = logging.makeLogRecord(
        {"name": "grader", "levelname": "INFO", "msg": "graded %s", "args": (7,), "submission": 7}
    )
    doc = json.loads(JsonFormatter().format(record))
    assert doc["message"] == "graded 7" and doc["submission"] == 7 and doc["level"] == "INFO"
