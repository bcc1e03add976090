"""Fault injection: the LMS webhook receiver is down while students' submissions are graded.

A real `celery worker` (queues grading and batch) grades in the real sandbox and runs the
GRADED_HOOKS; the outbound webhook goes to a closed loopback port. Grading must complete, the
delivery must be retried and end "dead" after the configured attempts, and nothing may be
graded twice. Tiny backoff settings reach the worker through its environment.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.lms.models import CourseIntegration, WebhookDelivery
from grader.submissions.models import Submission
from grader.submissions.services import submission_create
from tests.conftest import database_url, example_submission

ROOT = Path(__file__).resolve().parents[2]
ATTEMPTS = 3
pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.django_db(transaction=True)]


def closed_port() -> int:
    """A loopback port nothing listens on: bound once by us, then released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    from grader.celery import ensure_broker_dirs

    ensure_broker_dirs()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "LMS_WEBHOOK_MAX_ATTEMPTS": str(ATTEMPTS),
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",  # the (closed) receiver port is on loopback
        "LMS_WEBHOOK_BACKOFF_SECONDS": "1",  # 0.5-1 s, then 1-2 s
        "LMS_WEBHOOK_BACKOFF_MAX_SECONDS": "2",
        "LMS_WEBHOOK_TIMEOUT_SECONDS": "2",
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "grader", "worker", "-Q", "grading,batch",
             "--pool", "solo", "--loglevel", "INFO", "--without-heartbeat", "--without-gossip",
             "--without-mingle", "-n", f"webhook{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        yield proc
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(f"--- worker.log\n{log_path.read_text(errors='replace')[-3000:]}")


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_receiver_down_grading_completes_and_the_delivery_dies_after_its_retries(world, worker):
    CourseIntegration.objects.create(
        course=world.course,
        secret="s3cret",
        callback_url=f"http://127.0.0.1:{closed_port()}/grades",
    )
    solution = example_submission("add_two_numbers", "correct.py")
    ids = [
        submission_create(
            assignment=world.assignment, student=student, uploads=[("solution.py", solution)]
        ).id
        for student in (world.alice, world.bob)
    ]
    wait_for(
        lambda: Submission.objects.filter(id__in=ids, status="graded").count() == len(ids),
        90,
        "both submissions to be graded",
    )
    deliveries = WebhookDelivery.objects.filter(submission_id__in=ids)
    wait_for(
        lambda: (
            deliveries.count() == len(ids)
            and not deliveries.filter(status=WebhookDelivery.Status.PENDING).exists()
        ),
        30,
        "the deliveries to give up",
    )
    for delivery in deliveries.prefetch_related("log"):
        assert delivery.status == WebhookDelivery.Status.DEAD
        assert delivery.attempts == ATTEMPTS
        log = list(delivery.log.all())
        assert [a.number for a in log] == list(range(1, ATTEMPTS + 1))
        assert all(a.status_code is None and "refused" in a.error.lower() for a in log), [
            a.error for a in log
        ]
        assert delivery.finished_at is not None
    # Grading is untouched by the dead receiver: each graded once, full marks, one delivery each.
    for s in Submission.objects.filter(id__in=ids):
        assert (s.status, s.gradings, s.error) == ("graded", 1, "")
        assert s.score == s.max_score == 9
        assert s.results.count() == 7
    assert sorted(deliveries.values_list("submission_id", flat=True)) == sorted(ids)
