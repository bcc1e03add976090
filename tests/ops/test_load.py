"""Bounded load test: Locust students (fixed users, fixed duration, loopback only) upload to
gunicorn and poll their result while a real Celery worker grades in the real sandbox.

Asserts no server error, no lost submission, none graded twice, the right score for each file,
and prints p50/p95 upload-to-result latency. The machinery is bench/load.py, which a person can
run by hand for the same figures.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import global_settings

from bench import load
from tests.conftest import database_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.django_db(transaction=True),
]
USERS = 6
DURATION = 25  # seconds of Locust; with start-up and the drain the test takes about 45 s


def test_students_uploading_and_polling_get_every_result_without_a_server_error(
    tmp_path: Path, settings: Any
) -> None:
    # gunicorn checks passwords with the real hashers; the suite's fast MD5 one is not among them.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    from grader.celery import ensure_broker_dirs

    ensure_broker_dirs()
    seeded = load.seed(students=USERS)
    env = {**os.environ, "DATABASE_URL": database_url()}
    port = load.free_port()
    with (
        open(tmp_path / "web.log", "wb") as web_log,
        open(tmp_path / "worker.log", "wb") as worker_log,
    ):
        worker = load.start_worker(env=env, concurrency=2, log=worker_log)
        web = load.start_web(port=port, env=env, log=web_log)
        try:
            stats = load.run_locust(
                host=f"http://127.0.0.1:{port}",
                seeded=seeded,
                users=USERS,
                spawn_rate=USERS,
                duration=DURATION,
                csv_prefix=tmp_path / "locust",
                env=env,
            )
            load.wait_final(assignment_id=seeded.assignment_id, timeout=60)
        finally:
            load.stop(web)
            load.stop(worker)
    result = load.figures(assignment_id=seeded.assignment_id)
    print(load.report(stats, result, users=USERS, duration=DURATION))
    for log in ("web.log", "worker.log"):
        print(f"--- {log}\n{(tmp_path / log).read_text(errors='replace')[-2000:]}")

    assert stats.failures == [] and stats.total_failures == 0, stats.failures
    assert stats.exit_code == 0
    uploads = stats.ok("upload")
    assert uploads >= USERS  # every user got at least one upload through
    # Every accepted upload is a stored row (none lost) and every row ended GRADED. When the
    # duration ends Locust cancels in-flight requests: an upload the server already stored may
    # never be counted client-side (at most one per user), and a user may be stopped while
    # polling, so the client-side counts can trail the database, never lead it.
    assert uploads <= result.submissions <= uploads + USERS
    assert uploads - USERS <= stats.ok("upload→result") <= uploads
    assert result.not_final == []
    assert result.graded == result.submissions
    assert result.graded_twice == []
    assert result.wrong_score == []
    assert result.p95 >= result.p50 > 0
