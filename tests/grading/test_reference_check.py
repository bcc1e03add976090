"""The reference solution at upload: queued after commit, graded twice by the grading task in
the real sandbox, stored on the assignment and shown to staff only; students never see it."""

from __future__ import annotations

import io
import secrets
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from grader.courses.models import Assignment
from grader.courses.services import assignment_create_from_package, assignment_package_replace
from grader.grading import tasks
from grader.grading.services import assignment_reference_check, reference_checks_sweep
from grader.lms.services import api_token_create
from grader.submissions.services import submission_create
from sandbox.package import PackageError
from sandbox.types import SandboxError
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.django_db
RECURSIVE_SUM = EXAMPLES / "packages" / "recursive_sum"
Status = Assignment.ReferenceStatus


@pytest.fixture
def sent(monkeypatch):
    """The reference-check messages sent to the broker, recorded instead."""
    calls: list[tuple[int, str]] = []
    monkeypatch.setattr(tasks, "enqueue_reference_check", lambda pk, sha: calls.append((pk, sha)))
    return calls


def package_with(tmp_path: Path, name: str, *, solution: str | None = None,
                 test_line: str = "") -> Path:
    """recursive_sum, with another solution/solution.py and a line added to its pytest file."""
    root = tmp_path / name
    shutil.copytree(RECURSIVE_SUM, root)
    if solution is not None:
        (root / "solution" / "solution.py").write_text(solution)
    test = root / "tests" / "test_recursion.py"
    test.write_text(test.read_text() + test_line)
    return root


def zipped(root: Path) -> SimpleUploadedFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zf.write(path, f"{root.name}/{path.relative_to(root)}")
    return SimpleUploadedFile(f"{root.name}.zip", buf.getvalue(), "application/zip")


def run_check(assignment: Assignment) -> Assignment:
    """What the grading worker does with the message: the task, eagerly, in this process."""
    tasks.check_reference_task.apply(args=(assignment.pk, assignment.package_sha256))
    assignment.refresh_from_db()
    return assignment


def test_a_package_without_solution_has_no_reference_check(world, sent):
    assert world.assignment.reference_status == Status.NONE and sent == []


def test_uploading_a_package_with_a_solution_queues_its_check_after_commit(
    client, world, sent, django_capture_on_commit_callbacks
):
    client.force_login(world.teacher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("assignment_new", args=[world.course.pk]),
            {"package": zipped(RECURSIVE_SUM), "late_penalty_percent": 0, "cooldown_minutes": 0},
            follow=True,
        )
    assert response.status_code == 200
    assignment = Assignment.objects.get(title__startswith="Recursion")
    assert assignment.reference_status == Status.PENDING and assignment.reference_result is None
    assert sent == [(assignment.pk, assignment.package_sha256)]
    assert "Your reference solution is being checked" in response.content.decode()
    assert "Being checked." in response.content.decode()


@pytest.mark.sandbox
def test_the_teacher_sees_full_marks_in_both_runs_on_the_assignment_and_settings_pages(
    client, world, sent
):
    assignment = run_check(assignment_create_from_package(course=world.course,
                                                          source=RECURSIVE_SUM))
    result = assignment.reference_result
    assert assignment.reference_status == Status.PASSED
    assert result["score"] == result["max_score"] == 18 and len(result["runs"]) == 2
    assert result["package_sha256"] == assignment.package_sha256
    client.force_login(world.teacher)
    for url in (reverse("assignment_detail", args=[assignment.pk]),
                reverse("assignment_edit", args=[assignment.pk])):
        page = client.get(url).content.decode()
        assert "Full marks in both runs:" in page and "<strong>18 / 18</strong>" in page
    client.force_login(world.ta)
    assert "Full marks in both runs:" in client.get(
        reverse("assignment_detail", args=[assignment.pk])).content.decode()


@pytest.mark.sandbox
def test_a_replaced_package_whose_solution_fails_a_test_is_a_warning_with_the_test(
    client, world, sent, tmp_path, django_capture_on_commit_callbacks
):
    assignment = run_check(assignment_create_from_package(course=world.course,
                                                          source=RECURSIVE_SUM))
    wrong = package_with(tmp_path, "recursive_sum", test_line=(
        "\n\ndef test_total_of_two():\n    assert total([2, 2]) == 5\n"))
    client.force_login(world.teacher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("assignment_edit", args=[assignment.pk]),
                               {"action": "package", "package": zipped(wrong)})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.reference_status == Status.PENDING
    assert sent[-1] == (assignment.pk, assignment.package_sha256)
    assignment = run_check(assignment)
    assert assignment.reference_status == Status.FAILED
    assert [t["name"] for t in assignment.reference_result["failing"]] == ["test_total_of_two"]
    page = client.get(reverse("assignment_edit", args=[assignment.pk])).content.decode()
    assert "your reference solution scores <strong>18 / 19</strong>" in page
    assert "test_total_of_two" in page and "assert 4 == 5" in page
    assert "publishing is up to you" in page


@pytest.mark.sandbox
def test_a_reference_that_cannot_be_graded_shows_the_cause(world, sent, tmp_path):
    broken = package_with(tmp_path, "broken", test_line="\nimport numpyy\n")
    assignment = run_check(assignment_create_from_package(course=world.course, source=broken))
    assert assignment.reference_status == Status.UNGRADABLE
    assert "No module named 'numpyy'" in assignment.reference_result["ungradable"]


def test_a_check_for_a_replaced_package_runs_and_stores_nothing(world, sent, tmp_path):
    assignment = assignment_create_from_package(course=world.course, source=RECURSIVE_SUM)
    old_sha = assignment.package_sha256
    assignment_package_replace(
        assignment=assignment, source=package_with(tmp_path, "v2", test_line="\n# v2\n"))
    assert assignment.package_sha256 != old_sha
    assert assignment_reference_check(assignment_id=assignment.pk, package_sha256=old_sha) is False
    assignment.refresh_from_db()
    assert assignment.reference_status == Status.PENDING and assignment.reference_result is None


def test_a_new_package_must_keep_the_language_and_submission_file(world, sent, tmp_path):
    other = package_with(tmp_path, "renamed")
    toml = other / "assignment.toml"
    toml.write_text(toml.read_text().replace('"solution.py"', '"answer.py"'))
    (other / "solution" / "solution.py").rename(other / "solution" / "answer.py")
    with pytest.raises(PackageError, match="students of this assignment submit solution.py"):
        assignment_package_replace(assignment=world.assignment, source=other)


def test_a_bad_replacement_package_is_refused_on_the_settings_page(client, world, sent, tmp_path):
    bad = package_with(tmp_path, "bad")
    (bad / "assignment.toml").write_text(
        (bad / "assignment.toml").read_text() + '\n[[tests]]\ntype = "static"\nrule = "nope"\n')
    client.force_login(world.teacher)
    response = client.post(reverse("assignment_edit", args=[world.assignment.pk]),
                           {"action": "package", "package": zipped(bad)})
    assert response.status_code == 400
    assert "rule must be one of" in response.content.decode()
    world.assignment.refresh_from_db()
    assert world.assignment.title == "Add two numbers"


def test_a_check_the_sandbox_keeps_failing_is_shown_as_an_error_after_retries(
    client, world, sent, monkeypatch, django_capture_on_commit_callbacks
):
    assignment = assignment_create_from_package(course=world.course, source=RECURSIVE_SUM)
    attempts: list[int] = []

    def broken(*args, **kwargs):
        attempts.append(1)
        raise SandboxError("bwrap: setting up uid map: Permission denied")

    monkeypatch.setattr("grader.grading.services.check_reference", broken)
    assignment = run_check(assignment)
    assert len(attempts) == 1 + tasks.MAX_INFRA_RETRIES
    assert assignment.reference_status == Status.ERROR
    assert "Permission denied" in assignment.reference_result["error"]
    client.force_login(world.teacher)
    page = client.get(reverse("assignment_edit", args=[assignment.pk])).content.decode()
    assert "The check itself could not run" in page and "Check again" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("assignment_edit", args=[assignment.pk]),
                               {"action": "reference"})
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.reference_status == Status.PENDING
    assert sent[-1] == (assignment.pk, assignment.package_sha256)


def test_the_sweeper_resends_a_check_pending_past_the_hard_limit(world, sent, settings):
    assignment = assignment_create_from_package(course=world.course, source=RECURSIVE_SUM)
    assert reference_checks_sweep() == []
    later = timezone.now() + timedelta(seconds=settings.SWEEPER_RUNNING_AFTER + 1)
    assert reference_checks_sweep(now=later) == [assignment.pk]
    assert sent == [(assignment.pk, assignment.package_sha256)]
    assert reference_checks_sweep(now=later) == []  # touched: not again in the same period


def test_the_periodic_sweep_includes_reference_checks(world, sent, settings):
    from grader.ops.tasks import sweep_task

    assignment = assignment_create_from_package(course=world.course, source=RECURSIVE_SUM)
    old = timezone.now() - timedelta(seconds=settings.SWEEPER_RUNNING_AFTER + 1)
    Assignment.objects.filter(pk=assignment.pk).update(reference_requested_at=old)
    assert sweep_task()["reference_checks_resent"] == 1
    assert sent == [(assignment.pk, assignment.package_sha256)]


def test_students_never_see_the_reference_solution_or_its_result(client, world, sent, tmp_path):
    """Every page and API answer a student can reach for the assignment: no line of solution/,
    no reference result. The package's files are served nowhere (no media URL)."""
    token = secrets.token_hex(8)
    root = package_with(tmp_path, "secret", solution=(
        f"# SECRET-{token}\ndef total(xs):\n    return total(xs[1:]) + xs[0] if xs else 0\n\n\n"
        "def reverse(xs):\n    return reverse(xs[1:]) + [xs[0]] if xs else []\n"))
    assignment = assignment_create_from_package(course=world.course, source=root)
    Assignment.objects.filter(pk=assignment.pk).update(
        reference_status=Status.FAILED,
        reference_result={"status": "failed", "score": 1, "max_score": 2, "runs": [],
                          "failing": [{"name": f"FAILING-{token}", "verdict": "failed",
                                       "output": ""}], "flaky": [], "ungradable": ""})
    submission = submission_create(assignment=assignment, student=world.alice,
                                   uploads=[("solution.py", b"def total(xs):\n    return 0\n")])
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {api_token_create(user=world.alice)}"}
    client.force_login(world.alice)
    answers = [
        client.get(reverse("home")),
        client.get(reverse("course_detail", args=[world.course.pk])),
        client.get(reverse("assignment_detail", args=[assignment.pk])),
        client.get(reverse("submission_detail", args=[submission.pk])),
        client.get(reverse("submission_status", args=[submission.pk])),
        client.get(reverse("assignment_edit", args=[assignment.pk])),
        client.get(reverse("assignment_submissions", args=[assignment.pk])),
        client.get("/api/assignments", **bearer),
        client.get(f"/api/submissions/{submission.pk}", **bearer),
        client.get(f"/media/packages/{assignment.package_sha256}/solution/solution.py"),
        client.get(f"/static/../media/packages/{assignment.package_sha256}/solution/solution.py"),
    ]
    assert [a.status_code for a in answers[:5]] == [200] * 5
    assert answers[5].status_code == answers[6].status_code == 404  # staff pages
    assert answers[7].status_code == 200
    assert answers[9].status_code == answers[10].status_code == 404
    for answer in answers:
        body = answer.content.decode(errors="replace")
        assert f"SECRET-{token}" not in body and f"FAILING-{token}" not in body
        assert "Reference solution" not in body and "reference_" not in body
