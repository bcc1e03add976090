"""Schemathesis fuzzes the RUNNING app (pytest-django's live server, a real HTTP server on a
loopback port against the test database) from its own OpenAPI schema: no request it generates,
valid or not, may get a 5xx.

The data is real: a course with an assignment from examples/packages/max_of_list, a graded
submission with released feedback and an outbound delivery. A schemathesis.toml makes each id
path parameter one of those rows' ids half of the time, so the code after the lookup is fuzzed
too, not only the 404s. The caller is a teacher, who reaches every endpoint's staff branch.
Bounded (MAX_EXAMPLES, one worker, fixed seed): about 15 s.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, example_submission

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
MAX_EXAMPLES = 25  # per operation and phase; the whole run stays well under a minute


@pytest.fixture
def api_data(django_user_model: Any) -> dict[str, Any]:
    from grader.celery import ensure_broker_dirs
    from grader.courses.models import Course, Enrollment
    from grader.courses.services import assignment_create_from_package, enrollment_set
    from grader.feedback.models import Feedback
    from grader.lms.models import CourseIntegration, WebhookDelivery
    from grader.lms.services import api_token_create
    from grader.submissions.models import Submission
    from grader.submissions.services import submission_create

    ensure_broker_dirs()  # submissions enqueue grading on the embedded file-system broker
    course = Course.objects.create(code="FUZZ1", title="Fuzzed")
    teacher = django_user_model.objects.create_user(username="fuzz-teacher", password="pw")
    student = django_user_model.objects.create_user(username="fuzz-student", password="pw")
    enrollment_set(course=course, user=teacher, role=Enrollment.Role.TEACHER)
    enrollment_set(course=course, user=student, role=Enrollment.Role.STUDENT)
    assignment = assignment_create_from_package(
        course=course, source=EXAMPLES / "packages" / "max_of_list", max_attempts=None
    )
    submission = submission_create(
        assignment=assignment,
        student=student,
        uploads=[
            (assignment.submission_filename, example_submission("max_of_list", "wrong.py"))
        ],
    )
    Submission.objects.filter(pk=submission.pk).update(status="graded", score=0, max_score=1)
    Feedback.objects.create(
        submission=submission, status=Feedback.Status.RELEASED, line=1, category="logic",
        explanation="e", hint="h", agreement=1.0,
    )
    CourseIntegration.objects.create(
        course=course, secret="s", callback_url="http://127.0.0.1:9/closed"
    )
    WebhookDelivery.objects.create(
        course=course, submission=submission, event="submission.graded",
        url="http://127.0.0.1:9/closed", payload={"event": "submission.graded"},
    )
    delivery = WebhookDelivery.objects.get(course=course)
    return {
        "token": api_token_create(user=teacher),
        "ids": {
            "assignment_id": assignment.pk,
            "submission_id": submission.pk,
            "delivery_id": delivery.pk,
        },
    }


def config_with_real_ids(ids: dict[str, int]) -> str:
    """schemathesis.toml: each id path parameter is a real row's id half of the time (so the
    branches after the lookup run, not only the 404s), and whatever the generator makes
    otherwise."""
    dictionaries = [f"[dictionaries.{name}]\nvalues = [{value}]\n" for name, value in ids.items()]
    bindings = [
        f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}\n' for name in ids
    ]
    return "".join(dictionaries) + "[parameters]\n" + "".join(bindings)


def test_schemathesis_finds_no_server_error_in_the_running_api(
    live_server: Any, api_data: dict[str, Any], tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_with_real_ids(api_data["ids"]))
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file", str(config),
        "run",
        f"{live_server.url}/api/openapi.json",
        "--checks", "not_a_server_error",
        "--header", f"Authorization: Bearer {api_data['token']}",
        "--max-examples", str(MAX_EXAMPLES),
        "--phases", "examples,coverage,fuzzing",
        "--workers", "1",  # the live server's test database is one SQLite file
        "--seed", "6",  # reproducible in CI; change it locally to explore
        "--request-timeout", "20",
        "--generation-database", "none",
        "--report", "json",
        "--report-json-path", str(report),
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    summary = json.loads(report.read_text())
    # It did exercise the API: every operation tested, none skipped or errored for a schema
    # problem, and no 5xx (the only check) among the cases generated.
    operations = summary["operations"]
    assert operations["total"] >= 5 and operations["tested"] == operations["total"], operations
    assert operations["errored"] == 0 and operations["skipped"] == 0, operations
    assert summary["test_cases"]["generated"] >= 100, summary["test_cases"]
    assert summary["failures"] == [] and summary["errors"] == [], output[-8000:]
    # The real ids were used too: redelivering the existing delivery made new ones.
    from grader.lms.models import WebhookDelivery

    assert WebhookDelivery.objects.count() > 1
