"""End-to-end throughput: web upload (Django test client) → queue → worker → sandbox → stored.

    .venv/bin/python bench/throughput.py [--submissions 60] [--concurrency N] [--backend bubblewrap]

Uses a fresh data folder (SQLite + file-system queue unless DATABASE_URL / REDIS_URL are set)
and a real `celery worker` with N processes (default: all cores). Prints graded submissions per
minute per core (the cores the workers can use: N, at most the machine's) and upload-to-result
latency percentiles. SANDBOX_BACKEND=docker (or --backend docker) measures the Docker backend
(a container per submission, from the warm pool) when `docker info` works.
A figure, never pass/fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--backend", default=os.environ.get("SANDBOX_BACKEND", "bubblewrap"))
    parser.add_argument("--package", default="add_two_numbers",
                        help="an examples/packages folder whose examples/submissions/<it>/ has "
                             "correct.* (add_two_numbers: pytest + io; max_of_list: io only)")
    args = parser.parse_args()
    os.environ["SANDBOX_BACKEND"] = args.backend
    os.environ.setdefault("GRADER_DATA_DIR", tempfile.mkdtemp(prefix="grader-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grader.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db.models import F
    from django.test import Client
    from django.urls import reverse

    from grader.celery import ensure_broker_dirs
    from grader.courses.models import Course
    from grader.courses.services import assignment_create_from_package, enrollment_set
    from grader.submissions.models import Submission

    call_command("migrate", verbosity=0)
    ensure_broker_dirs()
    course = Course.objects.create(code=f"BENCH{time.time_ns()}", title="bench")
    assignment = assignment_create_from_package(
        course=course, source=ROOT / "examples/packages" / args.package, max_attempts=None
    )
    correct = next((ROOT / "examples/submissions" / args.package).glob("correct.*"))
    solution = correct.read_bytes()
    students = []
    for i in range(args.submissions):  # one student each: no cooldown or attempt limit applies
        user = get_user_model().objects.create_user(username=f"b{course.pk}-{i}")
        enrollment_set(course=course, user=user, role="student")
        students.append(user)

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "grader", "worker", "-Q", "grading,batch",
         "--concurrency", str(args.concurrency), "--loglevel", "WARNING"],
        cwd=ROOT, env=os.environ.copy(),
    )  # fmt: skip
    try:
        time.sleep(3)  # worker start-up is not part of the figure
        client = Client()
        start = time.monotonic()
        for user in students:
            client.force_login(user)
            response = client.post(
                reverse("assignment_detail", args=[assignment.pk]),
                {"upload": [SimpleUploadedFile(correct.name, solution)]},
            )
            if response.status_code != 302:
                raise SystemExit(f"upload failed: HTTP {response.status_code}")
        rows = Submission.objects.filter(assignment=assignment)
        while rows.exclude(status__in=Submission.FINAL_STATUSES).exists():
            time.sleep(0.2)
        elapsed = time.monotonic() - start
    finally:
        worker.terminate()
        worker.wait(30)
    graded = rows.filter(status="graded", score=F("max_score")).count()
    latencies = sorted((s.finished_at - s.created_at).total_seconds() for s in rows)
    per_minute = graded / elapsed * 60
    print(f"backend={args.backend} workers={args.concurrency} submissions={args.submissions} "
          f"package={args.package}")
    print(f"graded correctly: {graded}/{args.submissions} in {elapsed:.1f} s")
    # Per core of the machine the workers can use: more worker processes than cores share them.
    cores = min(args.concurrency, os.cpu_count() or 1)
    print(f"throughput: {per_minute:.0f}/min, {per_minute / cores:.0f}/min/core "
          f"({cores} cores)")
    print(
        f"upload→result latency: p50 {statistics.median(latencies):.2f} s, "
        f"p95 {latencies[int(0.95 * (len(latencies) - 1))]:.2f} s"
    )


if __name__ == "__main__":
    main()
