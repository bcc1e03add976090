"""Locust scenario: students log in, upload a solution and poll its status until it is final.

Run through bench/load.py (which seeds the students and starts the app and a worker), or by hand
against a running app whose students were seeded the same way:

    LOAD_ASSIGNMENT=3 LOAD_USERNAMES=load-0,load-1 LOAD_PASSWORD=pw \
        locust -f bench/locustfile.py --headless -u 2 -r 2 -t 30s --host http://127.0.0.1:8000

Each simulated user takes the next unused student account, so no two users share a login and
the per-student cooldown and attempt limits never turn an upload away. Besides the HTTP
requests, each finished submission is recorded as a "FLOW upload→result" entry (client-side
time from the upload POST to the first final status), and a poll that gives up is a failure.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import time
from pathlib import Path

from locust import HttpUser, between, events, task
from locust.exception import StopUser

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = {
    name: (ROOT / "examples/submissions/max_of_list" / name).read_bytes()
    for name in ("correct.py", "wrong.py")
}
ASSIGNMENT = int(os.environ.get("LOAD_ASSIGNMENT", "0"))
USERNAMES = [u for u in os.environ.get("LOAD_USERNAMES", "").split(",") if u]
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
POLL_SECONDS = float(os.environ.get("LOAD_POLL_SECONDS", "0.5"))
POLL_TIMEOUT = float(os.environ.get("LOAD_POLL_TIMEOUT", "120"))
_accounts = itertools.count()
_SUBMISSION = re.compile(r"/submissions/(\d+)/")


@events.test_start.add_listener
def _check_config(environment, **_kwargs) -> None:  # type: ignore[no-untyped-def]
    if not (ASSIGNMENT and USERNAMES and PASSWORD):
        raise SystemExit("set LOAD_ASSIGNMENT, LOAD_USERNAMES and LOAD_PASSWORD")


class Student(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        index = next(_accounts)
        if index >= len(USERNAMES):
            raise SystemExit(f"more users than seeded students ({len(USERNAMES)})")
        self.client.get("/accounts/login/", name="login page")
        with self.client.post(
            "/accounts/login/",
            {
                "username": USERNAMES[index],
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", ""),
            },
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login refused: HTTP {response.status_code}")
                raise StopUser

    @task
    def upload_and_poll(self) -> None:
        name = random.choice(list(SOLUTIONS))
        started = time.perf_counter()
        with self.client.post(
            f"/assignments/{ASSIGNMENT}/",
            data={"csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")},
            files={"upload": ("largest.py", SOLUTIONS[name], "text/x-python")},
            name="upload",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            found = _SUBMISSION.search(response.headers.get("Location", ""))
            if response.status_code != 302 or not found:
                response.failure(f"upload not accepted: HTTP {response.status_code}")
                return
        submission = int(found.group(1))
        deadline = started + POLL_TIMEOUT
        while time.perf_counter() < deadline:
            time.sleep(POLL_SECONDS)
            with self.client.get(
                f"/submissions/{submission}/status/",
                name="/submissions/[id]/status/",
                catch_response=True,
            ) as poll:
                if poll.status_code != 200:
                    poll.failure(f"HTTP {poll.status_code}")
                    continue
                if 'data-final="true"' in poll.text:
                    self._flow(started, None)
                    return
        self._flow(started, TimeoutError(f"submission {submission} not final in {POLL_TIMEOUT}s"))

    def _flow(self, started: float, exception: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type="FLOW",
            name="upload→result",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=exception,
            context={},
        )
