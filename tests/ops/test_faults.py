"""Fault injection against real processes: a private redis-server, real `celery worker`
processes, the real sandbox and the test database (Postgres in CI).

Each test asserts that no submission is lost (every one ends GRADED) and none is graded twice
(``gradings`` counts stored reports; exactly one TestResult row per test). The sweeper is the
real service; where it must act "after the hard time limit" the test passes it a clock moved
forward instead of waiting ten minutes.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import kombu.exceptions
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from grader.celery import app
from grader.courses.services import assignment_create_from_package
from grader.ops.sweeper import submissions_sweep
from grader.submissions.models import Submission
from grader.submissions.services import submission_create
from tests.conftest import database_url

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SLOW = (HERE / "slow_solution.py").read_bytes()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A redis-server of our own that keeps nothing on disk, so a restart loses every message."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("private redis did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    # This process publishes to it too (submission_create, the sweeper).
    saved = app.conf.broker_url
    app.conf.broker_url = server.url
    app._pool = None
    app.amqp._producer_pool = None
    yield server
    app.pool.force_close_all()  # the private server's pool only
    app.conf.broker_url = saved
    app._pool = None
    app.amqp._producer_pool = None
    server.stop()


@pytest.fixture
def start_worker(
    private_redis: PrivateRedis, tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": private_redis.url}
        log = open(tmp_path / f"worker{len(procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "grader",
                "worker",
                "-Q",
                "grading,batch",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"fault{len(procs)}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    for log in sorted(tmp_path.glob("worker*.log")):
        print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def slow_assignment(world):
    return assignment_create_from_package(
        course=world.course, source=HERE / "packages" / "slow_echo", max_attempts=None
    )


def submit(assignment, student, n: int) -> list[int]:
    return [
        submission_create(
            assignment=assignment, student=student, uploads=[("solution.py", SLOW)]
        ).id
        for _ in range(n)
    ]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def all_final(ids: list[int]) -> bool:
    return Submission.objects.filter(
        id__in=ids, status__in=Submission.FINAL_STATUSES
    ).count() == len(ids)


def assert_graded_exactly_once(ids: list[int], gradings: int = 1) -> None:
    rows = Submission.objects.filter(id__in=ids).prefetch_related("results")
    assert len(rows) == len(ids), "a submission row is missing"
    for s in rows:
        assert (s.id, s.status, s.error) == (s.id, "graded", ""), f"#{s.id} not graded"
        assert s.score == s.max_score == 1
        assert s.gradings == gradings, f"#{s.id} stored {s.gradings} reports"
        assert len(s.results.all()) == 1, f"#{s.id} has {len(s.results.all())} TestResult rows"


def later(seconds: float):
    return timezone.now() + timedelta(seconds=seconds)


def test_sigkill_of_a_worker_mid_grade_loses_nothing_and_grades_nothing_twice(
    world, slow_assignment, start_worker
):
    ids = submit(slow_assignment, world.alice, 3)
    first = start_worker()
    wait_for(
        lambda: Submission.objects.filter(id__in=ids, status="running").exists(),
        60,
        "a submission to start",
    )
    time.sleep(0.5)  # inside the solution's 2 s sleep
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    running = list(
        Submission.objects.filter(id__in=ids, status="running").values_list("id", flat=True)
    )
    assert len(running) == 1
    # Past the hard limit, the sweeper gives the dead worker's row back and re-sends the others
    # too (their messages are still queued: each is now delivered twice, and graded once).
    report = submissions_sweep(now=later(settings.SWEEPER_RUNNING_AFTER + 1))
    assert report.recovered == running and report.failed == []
    start_worker()
    wait_for(lambda: all_final(ids), 90, "every submission to be graded")
    assert_graded_exactly_once(ids)
    assert Submission.objects.get(id=running[0]).recoveries == 1


def test_redis_restart_mid_run_loses_nothing(world, slow_assignment, private_redis, start_worker):
    import redis

    ids = submit(slow_assignment, world.alice, 4)
    start_worker()
    wait_for(
        lambda: Submission.objects.filter(id__in=ids, status="running").exists(),
        60,
        "a submission to start",
    )
    private_redis.stop()  # nothing on disk: every queued message is gone
    # An upload while the broker is down is stored (the row commits before the message is
    # sent); only its message is missing. submissions._enqueue still lets the broker error
    # through to the caller; with grading.tasks.enqueue_grading it would be logged instead.
    try:
        ids += submit(slow_assignment, world.bob, 1)
    except kombu.exceptions.OperationalError:
        ids.append(Submission.objects.get(student=world.bob, assignment=slow_assignment).id)
    private_redis.start()
    assert redis.Redis(port=private_redis.port).llen("grading") == 0
    # The sweeper notices QUEUED rows older than its threshold and sends them again.
    wait_for(
        lambda: Submission.objects.filter(id__in=ids, status="running").count() == 0,
        30,
        "the in-flight submission to finish",
    )
    report = submissions_sweep(now=later(settings.SWEEPER_QUEUED_AFTER + 1))
    # Bob's message was never sent and nothing of his runs to wake it: only the sweeper can.
    # Alice's lost messages are re-sent by the sweeper too, unless her finished grading already
    # woke the next one (GRADING_MAX_RUNNING_PER_STUDENT): either way none is left behind.
    bob = Submission.objects.get(student=world.bob, assignment=slow_assignment).id
    assert bob in report.resent
    wait_for(lambda: all_final(ids), 90, "every submission to be graded")
    assert_graded_exactly_once(ids)


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="pg_terminate_backend needs Postgres (DATABASE_URL)",
)
def test_dropped_database_connections_mid_grade_lose_nothing(world, slow_assignment, start_worker):
    ids = submit(slow_assignment, world.alice, 3)
    start_worker()
    wait_for(
        lambda: Submission.objects.filter(id__in=ids, status="running").exists(),
        60,
        "a submission to start",
    )
    time.sleep(0.5)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (killed,) = cursor.fetchone()
    assert killed >= 1  # the worker's connection
    # No sweeper here: the worker reconnects, gives the row back and retries by itself.
    wait_for(lambda: all_final(ids), 90, "every submission to be graded")
    assert_graded_exactly_once(ids)


def test_no_gpu_worker_does_not_hold_up_grading_or_regrades(
    world, slow_assignment, private_redis, start_worker
):
    import redis

    for i in range(20):  # feedback requests nobody consumes: no GPU worker is running
        app.send_task("feedback.explain_submission", args=[i], queue="feedback")
    ids = submit(slow_assignment, world.alice, 2)
    start_worker()
    wait_for(lambda: all_final(ids), 60, "every submission to be graded")
    assert_graded_exactly_once(ids)
    # A regrade goes through the batch queue, replaces the results and leaves no duplicates.
    from grader.grading.services import submission_regrade

    assert sorted(submission_regrade(assignment=slow_assignment)) == sorted(ids)
    wait_for(lambda: all_final(ids), 60, "the regrade")
    assert_graded_exactly_once(ids, gradings=2)
    assert redis.Redis(port=private_redis.port).llen("feedback") == 20
