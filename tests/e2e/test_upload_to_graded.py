"""End to end: a student uploads through the web view, a real Celery worker process grades it.

The worker is a separate process on the same broker (Redis, or the embedded file-system queue)
and the same test database, so this crosses every seam a production upload crosses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from grader.submissions.models import Submission
from tests.conftest import database_url, example_submission

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker() -> Iterator[subprocess.Popen[bytes]]:
    yield from run_worker("grading")


@pytest.fixture
def feedback_worker() -> Iterator[subprocess.Popen[bytes]]:
    """A worker for grading and the feedback queue, as the demo starts it."""
    yield from run_worker("grading,feedback")


def run_worker(queues: str) -> Iterator[subprocess.Popen[bytes]]:
    from grader.celery import app, ensure_broker_dirs

    ensure_broker_dirs()
    # Messages an earlier test left on the broker (a view that enqueued with no worker running)
    # are not this test's work: a worker that starts on them first only delays the one it waits for.
    app.control.purge()
    env = {**os.environ, "DATABASE_URL": database_url(), "FEEDBACK_REPAIR_SECONDS": "300"}
    # A file, not a pipe nobody reads: a chatty worker would block on a full pipe.
    log_dir = ROOT / "var" / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = open(log_dir / f"test-worker-{queues.replace(',', '-')}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "grader",
            "worker",
            "-Q",
            queues,
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def wait_final(submission_id: int, timeout: float = 120) -> Submission:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        submission = Submission.objects.get(pk=submission_id)
        if submission.is_final:
            return submission
        time.sleep(0.3)
    raise AssertionError(f"submission {submission_id} still {submission.status} after {timeout}s")


@pytest.mark.parametrize(("solution", "full_marks"), [("correct.py", True), ("wrong.py", False)])
def test_uploaded_solution_goes_queued_running_graded_with_per_test_results(
    client, world, worker, solution, full_marks
):
    client.force_login(world.alice)
    response = client.post(
        reverse("assignment_detail", args=[world.assignment.pk]),
        {
            "upload": [
                SimpleUploadedFile("solution.py", example_submission("add_two_numbers", solution))
            ]
        },
    )
    assert response.status_code == 302
    submission_id = Submission.objects.get().pk
    submission = wait_final(submission_id)
    if submission.status != "graded":
        worker.terminate()
        log = worker.communicate(timeout=10)[0].decode(errors="replace")
        raise AssertionError(f"{submission.status}: {submission.error}\n{log[-4000:]}")
    assert submission.max_score == 9  # 5 pytest cases x 1 point + 2 io tests x 2 points
    assert (submission.score == submission.max_score) is full_marks
    assert submission.results.count() == 7
    page = client.get(reverse("submission_detail", args=[submission_id])).content.decode()
    assert "Graded" in page and f"{submission.score:g} / 9" in page
    assert "negative numbers" not in page  # a hidden test's name never reaches the student
