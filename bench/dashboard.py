"""Server time of the teacher dashboard with 1,000 submissions (target <= 200 ms).

    .venv/bin/python bench/dashboard.py [--submissions 1000] [--students 250] [--tests 10]

Builds a throw-away SQLite database (or uses DATABASE_URL's server with a fresh test database
name), fills it with graded submissions, then times GET of the dashboard through Django's test
client (server side only: no network, no browser) and prints the median, p95 and query count.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--students", type=int, default=250)
    parser.add_argument("--tests", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-dashboard-")
    os.environ["GRADER_DATA_DIR"] = tmp
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grader.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse
    from django.utils import timezone

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from grader.courses.models import Course
    from grader.courses.services import assignment_create_from_package, enrollment_set
    from grader.grading.models import TestResult
    from grader.submissions.models import Submission

    user_model = get_user_model()
    course = Course.objects.create(code="BENCH", title="Bench")
    teacher = user_model.objects.create_user("teacher", password="x")  # noqa: S106
    enrollment_set(course=course, user=teacher, role="teacher")
    assignment = assignment_create_from_package(
        course=course, source=ROOT / "examples" / "packages" / "add_two_numbers"
    )
    students = user_model.objects.bulk_create(
        user_model(username=f"s{i:04d}") for i in range(args.students)
    )
    now = timezone.now()
    subs = Submission.objects.bulk_create(
        Submission(assignment=assignment, student=students[i % args.students],
                   attempt=i // args.students + 1, status="graded", score=i % (args.tests + 1),
                   max_score=args.tests, created_at=now, finished_at=now)
        for i in range(args.submissions)
    )
    TestResult.objects.bulk_create(
        TestResult(submission=s, position=t, name=f"test_{t}", kind="pytest",
                   score=1 if t < s.score else 0, max_score=1,
                   verdict="passed" if t < s.score else "failed", visibility="visible")
        for s in subs for t in range(args.tests)
    )
    client = Client()
    client.force_login(teacher)
    url = reverse("assignment_submissions", args=[assignment.pk])
    assert client.get(url).status_code == 200  # warm caches, templates
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    times.sort()
    print(f"dashboard, {args.submissions} submissions, {args.students} students, "
          f"{args.tests} tests each, {connection.vendor}")
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"median {statistics.median(times):.1f} ms  p95 {p95:.1f} ms"
          f"  queries {len(ctx.captured_queries)}")


if __name__ == "__main__":
    main()
