"""Bounded load test: Locust students upload to a real gunicorn + Celery stack and poll the result.

    .venv/bin/python bench/load.py [--users 8] [--duration 30] [--concurrency N]

Loopback only: it seeds a course with one student account per Locust user in a fresh data
folder (SQLite + file-system queue unless DATABASE_URL / REDIS_URL are set), starts gunicorn on
a free 127.0.0.1 port and a `celery worker -Q grading,batch`, runs Locust headless with fixed
users and duration (bench/locustfile.py), waits a bounded time for every submission to be
final, and prints server errors, lost submissions and p50/p95 upload-to-result latency
(created_at → finished_at in the database). tests/ops/test_load.py runs the same functions
against the test database and asserts on them.
"""

from __future__ import annotations

import csv
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
SOLUTIONS = ROOT / "examples" / "submissions" / "max_of_list"


@dataclass
class Seeded:
    assignment_id: int
    usernames: list[str]
    password: str


@dataclass
class LocustStats:
    """Per-entry (request count, failure count) from Locust's ``*_stats.csv``, and its failures."""

    counts: dict[str, tuple[int, int]]
    failures: list[str]
    exit_code: int

    def ok(self, name: str) -> int:
        requests, failed = self.counts.get(name, (0, 0))
        return requests - failed

    @property
    def total_failures(self) -> int:
        return sum(failed for _, failed in self.counts.values())


@dataclass
class Figures:
    """What the database says about the assignment's submissions after the run."""

    submissions: int
    graded: int
    not_final: list[int]
    graded_twice: list[int]
    wrong_score: list[int]
    latencies: list[float] = field(repr=False)

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p95(self) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[round(0.95 * (len(ordered) - 1))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(*, students: int, password: str | None = None) -> Seeded:
    """A course with the max_of_list assignment (no attempt limit, no cooldown) and ``students``
    enrolled student accounts sharing one password. Needs Django set up."""
    from django.contrib.auth import get_user_model

    from grader.courses.models import Course
    from grader.courses.services import assignment_create_from_package, enrollment_set

    password = password or secrets.token_urlsafe(12)
    course = Course.objects.create(code=f"LOAD{time.time_ns()}", title="load test")
    assignment = assignment_create_from_package(
        course=course,
        source=ROOT / "examples" / "packages" / "max_of_list",
        max_attempts=None,
        cooldown_minutes=0,
    )
    usernames = []
    for i in range(students):
        user = get_user_model().objects.create_user(
            username=f"load{course.pk}-{i}", password=password
        )
        enrollment_set(course=course, user=user, role="student")
        usernames.append(user.username)
    return Seeded(assignment_id=assignment.pk, usernames=usernames, password=password)


def start_web(*, port: int, env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    """gunicorn on 127.0.0.1:port (gthread: polling requests are short and many)."""
    web_env = {
        **env,
        "DEBUG": "false",
        "SECRET_KEY": env.get("SECRET_KEY") or secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "grader.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--worker-class", "gthread", "--timeout", "60"],
        cwd=ROOT, env=web_env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2):  # noqa: S310
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("gunicorn did not answer within 30 s")


def start_worker(
    *, env: dict[str, str], concurrency: int, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "grader", "worker", "-Q", "grading,batch",
         "--concurrency", str(concurrency), "--loglevel", "INFO", "--without-heartbeat",
         "--without-gossip", "--without-mingle", "-n", f"load{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def run_locust(
    *,
    host: str,
    seeded: Seeded,
    users: int,
    spawn_rate: float,
    duration: int,
    csv_prefix: Path,
    env: dict[str, str],
) -> LocustStats:
    """Locust headless with fixed users and run time. ``--stop-timeout`` gives users time to
    finish the upload they are polling; the database, not Locust, says whether any was lost."""
    locust_env = {
        **env,
        "LOAD_ASSIGNMENT": str(seeded.assignment_id),
        "LOAD_USERNAMES": ",".join(seeded.usernames),
        "LOAD_PASSWORD": seeded.password,
    }
    completed = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
         "-u", str(users), "-r", str(spawn_rate), "-t", f"{duration}s", "--stop-timeout", "60",
         "--host", host, "--csv", str(csv_prefix), "--loglevel", "WARNING"],
        cwd=ROOT, env=locust_env, capture_output=True, text=True, timeout=duration + 120,
    )  # fmt: skip
    counts: dict[str, tuple[int, int]] = {}
    stats_csv = Path(f"{csv_prefix}_stats.csv")
    if stats_csv.exists():
        with stats_csv.open() as f:
            for row in csv.DictReader(f):
                if row["Name"] != "Aggregated":
                    counts[row["Name"]] = (int(row["Request Count"]), int(row["Failure Count"]))
    failures = []
    failures_csv = Path(f"{csv_prefix}_failures.csv")
    if failures_csv.exists():
        with failures_csv.open() as f:
            failures = [f"{r['Name']}: {r['Error']} ×{r['Occurrences']}" for r in csv.DictReader(f)]
    if not counts:
        raise RuntimeError(
            f"locust wrote no stats:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        )
    return LocustStats(counts=counts, failures=failures, exit_code=completed.returncode)


def wait_final(*, assignment_id: int, timeout: float) -> None:
    from grader.submissions.models import Submission

    rows = Submission.objects.filter(assignment_id=assignment_id)
    deadline = time.monotonic() + timeout
    while (
        time.monotonic() < deadline and rows.exclude(status__in=Submission.FINAL_STATUSES).exists()
    ):
        time.sleep(0.3)


def figures(*, assignment_id: int) -> Figures:
    from grader.submissions.models import Submission

    correct = (SOLUTIONS / "correct.py").read_bytes()
    rows = list(Submission.objects.filter(assignment_id=assignment_id).prefetch_related("files"))
    graded = [s for s in rows if s.status == Submission.Status.GRADED]
    wrong_score = []
    for s in graded:
        full = s.score == s.max_score and s.max_score
        if bool(full) != (bytes(s.files.all()[0].content) == correct):
            wrong_score.append(s.pk)
    return Figures(
        submissions=len(rows),
        graded=len(graded),
        not_final=[s.pk for s in rows if not s.is_final],
        graded_twice=[s.pk for s in rows if s.gradings != 1],
        wrong_score=wrong_score,
        latencies=[(s.finished_at - s.created_at).total_seconds() for s in graded if s.finished_at],
    )


def report(stats: LocustStats, result: Figures, *, users: int, duration: int) -> str:
    uploads = stats.ok("upload")
    lost = max(uploads - result.submissions, 0) + len(result.not_final)
    return "\n".join([
        f"users={users} duration={duration}s uploads accepted={uploads} "
        f"polls={stats.ok('/submissions/[id]/status/')}",
        f"server errors/failed requests: {stats.total_failures}"
        + (f" ({'; '.join(stats.failures)})" if stats.failures else ""),
        f"submissions: {result.submissions} stored, {result.graded} graded, {lost} lost, "
        f"{len(result.graded_twice)} not graded exactly once, "
        f"{len(result.wrong_score)} wrong score",
        f"upload→result latency (database): p50 {result.p50:.2f} s, p95 {result.p95:.2f} s "
        f"over {len(result.latencies)} submissions",
    ])  # fmt: skip


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--spawn-rate", type=float, default=4)
    parser.add_argument("--duration", type=int, default=30, help="seconds")
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    os.environ.setdefault("GRADER_DATA_DIR", tempfile.mkdtemp(prefix="grader-load-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grader.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from grader.celery import ensure_broker_dirs

    call_command("migrate", verbosity=0)
    ensure_broker_dirs()
    seeded = seed(students=args.users)
    env = os.environ.copy()
    logs = Path(os.environ["GRADER_DATA_DIR"])
    port = free_port()
    with open(logs / "load-web.log", "wb") as web_log, open(logs / "load-worker.log", "wb") as wlog:
        worker = start_worker(env=env, concurrency=args.concurrency, log=wlog)
        web = start_web(port=port, env=env, log=web_log)
        try:
            stats = run_locust(
                host=f"http://127.0.0.1:{port}", seeded=seeded, users=args.users,
                spawn_rate=args.spawn_rate, duration=args.duration,
                csv_prefix=logs / "locust", env=env,
            )  # fmt: skip
            wait_final(assignment_id=seeded.assignment_id, timeout=60)
        finally:
            stop(web)
            stop(worker)
    print(report(stats, figures(assignment_id=seeded.assignment_id), users=args.users,
                 duration=args.duration))  # fmt: skip
    print(f"logs and Locust CSVs in {logs}")


if __name__ == "__main__":
    main()
