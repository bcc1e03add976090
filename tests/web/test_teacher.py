"""Teacher pages: authoring, settings, extensions, dashboard, export, and who may see them."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grader.courses.models import Assignment, Extension
from grader.grading.models import TestResult
from grader.submissions.models import Submission
from grader.submissions.services import submission_create

pytestmark = pytest.mark.django_db
PACKAGE = Path(__file__).resolve().parents[2] / "examples" / "packages" / "sum_list_c"


def package_zip(root: Path = PACKAGE, broken: bool = False) -> SimpleUploadedFile:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                if broken and path.name == "assignment.toml":
                    data = data.replace(b'language = "c"', b'language = "cobol"')
                zf.writestr(f"pkg/{path.relative_to(root)}", data)
    return SimpleUploadedFile("pkg.zip", buf.getvalue())


def graded(world, student, score: float, verdicts: list[str], created_at=None) -> Submission:
    submission = submission_create(assignment=world.assignment, student=student,
                                   uploads=[("solution.py", b"x = 1\n")])
    for i, verdict in enumerate(verdicts):
        TestResult.objects.create(submission=submission, position=i, name=f"t{i}", kind="io",
                                  score=1 if verdict == "passed" else 0, max_score=1,
                                  verdict=verdict, visibility="visible")
    Submission.objects.filter(pk=submission.pk).update(
        status="graded", score=score, max_score=len(verdicts),
        **({"created_at": created_at} if created_at else {}),
    )
    submission.refresh_from_db()
    return submission


# -- who may do what ---------------------------------------------------------------------------

VIEWS = ["assignment_new", "assignment_edit", "assignment_submissions", "assignment_grades_csv"]
EXPECTED = {  # role → status per view, in VIEWS order
    "teacher": [200, 200, 200, 200],
    "ta": [404, 404, 200, 200],
    "alice": [404, 404, 404, 404],
    "outsider": [404, 404, 404, 404],
}


@pytest.mark.parametrize("who", list(EXPECTED))
@pytest.mark.parametrize("view", VIEWS)
def test_teacher_pages_are_open_only_to_the_right_roles(client, world, who, view):
    client.force_login(getattr(world, who))
    pk = world.course.pk if view == "assignment_new" else world.assignment.pk
    assert client.get(reverse(view, args=[pk])).status_code == EXPECTED[who][VIEWS.index(view)]


@pytest.mark.parametrize("view", VIEWS)
def test_anonymous_users_are_sent_to_login_from_teacher_pages(client, world, view):
    pk = world.course.pk if view == "assignment_new" else world.assignment.pk
    response = client.get(reverse(view, args=[pk]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


# -- authoring ---------------------------------------------------------------------------------

def test_teacher_creates_an_assignment_from_a_package_zip(client, world):
    client.force_login(world.teacher)
    due = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("assignment_new", args=[world.course.pk]), {
        "package": package_zip(), "due_at": due, "late_penalty_percent": 20,
        "max_attempts": 5, "cooldown_minutes": 2, "is_published": "on",
    })
    created = Assignment.objects.get(title="Sum a list (C)")
    assert response.status_code == 302
    assert (created.language, created.submission_filename) == ("c", "sum.c")
    assert created.late_penalty_percent == 20
    assert (created.max_attempts, created.cooldown_minutes) == (5, 2)


def add_two_numbers_zip(extra: dict[str, str]) -> SimpleUploadedFile:
    """The add_two_numbers example package zipped, with ``extra`` files added or replaced."""
    buf = io.BytesIO()
    root = PACKAGE.parent / "add_two_numbers"
    with zipfile.ZipFile(buf, "w") as zf:
        for path in root.rglob("*"):
            name = path.relative_to(root).as_posix()
            if path.is_file() and name not in extra:
                zf.writestr(f"pkg/{name}", path.read_bytes())
        for name, text in extra.items():
            zf.writestr(f"pkg/{name}", text)
    return SimpleUploadedFile("pkg.zip", buf.getvalue())


def test_set_up_shared_between_tests_is_accepted_and_named_to_the_teacher(client, world):
    upload = add_two_numbers_zip({"tests/test_add.py": (
        "import pytest\nimport solution\n\n"
        "@pytest.fixture(scope='module')\ndef numbers():\n    return [solution.add(1, 2)]\n\n"
        "def test_first(numbers):\n    assert numbers == [3]\n")})
    client.force_login(world.teacher)
    response = client.post(reverse("assignment_new", args=[world.course.pk]), {
        "package": upload, "late_penalty_percent": 0, "cooldown_minutes": 0,
    }, follow=True)
    created = Assignment.objects.exclude(pk=world.assignment.pk).get(title="Add two numbers")
    assert "1 set-up(s) shared between tests: a test that uses one first replays" in (
        response.content.decode())
    page = client.get(reverse("assignment_edit", args=[created.pk])).content.decode()
    assert 'id="package-cautions"' in page
    assert "tests/test_add.py:5 (numbers): scope=&#x27;module&#x27; fixture numbers" in page
    assert "replays the tests before it" in page
    # The plain example package shares no set-up: no card.
    plain = client.get(reverse("assignment_edit", args=[world.assignment.pk])).content.decode()
    assert 'id="package-cautions"' not in plain


def test_a_broken_package_is_refused_with_the_reason_and_nothing_is_created(client, world):
    client.force_login(world.teacher)
    response = client.post(reverse("assignment_new", args=[world.course.pk]), {
        "package": package_zip(broken=True), "late_penalty_percent": 0, "cooldown_minutes": 0,
    })
    assert response.status_code == 400
    assert "unknown language &#x27;cobol&#x27;" in response.content.decode()
    assert Assignment.objects.count() == 1


def test_a_pytest_file_the_grader_cannot_run_safely_is_refused_naming_the_test(client, world):
    upload = add_two_numbers_zip({"tests/test_exec.py": (
        "def test_add_by_exec():\n    ns = {}\n    exec(open('solution.py').read(), ns)\n")})
    client.force_login(world.teacher)
    response = client.post(reverse("assignment_new", args=[world.course.pk]), {
        "package": upload, "late_penalty_percent": 0, "cooldown_minutes": 0,
    })
    page = response.content.decode()
    assert response.status_code == 400
    assert "tests/test_exec.py:3 (test_add_by_exec)" in page and "runs text as code" in page
    assert Assignment.objects.count() == 1


def test_teacher_edits_settings_and_grants_an_extension(client, world):
    client.force_login(world.teacher)
    url = reverse("assignment_edit", args=[world.assignment.pk])
    response = client.post(url, {"action": "settings", "late_penalty_percent": 150,
                                 "cooldown_minutes": 0})
    assert response.status_code == 400 and "at most 100%" in response.content.decode()
    client.post(url, {"action": "settings", "late_penalty_percent": 10, "cooldown_minutes": 5,
                      "max_attempts": 2})
    world.assignment.refresh_from_db()
    assert (world.assignment.late_penalty_percent, world.assignment.cooldown_minutes) == (10, 5)
    later = timezone.now() + timedelta(days=10)
    client.post(url, {"action": "extension", "username": "alice",
                      "due_at": later.strftime("%Y-%m-%dT%H:%M")})
    assert Extension.objects.get().student == world.alice
    response = client.post(url, {"action": "extension", "username": "nobody",
                                 "due_at": later.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 400 and "No student called" in response.content.decode()


# -- student side of those settings ------------------------------------------------------------

def test_unpublished_assignments_are_invisible_to_students(client, world):
    Assignment.objects.filter(pk=world.assignment.pk).update(is_published=False)
    client.force_login(world.alice)
    assert client.get(reverse("assignment_detail", args=[world.assignment.pk])).status_code == 404
    assert "Add two numbers" not in client.get(reverse("home")).content.decode()
    client.force_login(world.teacher)
    assert "draft" in client.get(reverse("home")).content.decode()


def test_cooldown_refuses_a_second_upload_and_shows_the_timer(client, world):
    Assignment.objects.filter(pk=world.assignment.pk).update(cooldown_minutes=10)
    client.force_login(world.alice)
    url = reverse("assignment_detail", args=[world.assignment.pk])
    client.post(url, {"upload": [SimpleUploadedFile("solution.py", b"x = 1\n")]})
    response = client.post(url, {"upload": [SimpleUploadedFile("solution.py", b"x = 2\n")]})
    assert response.status_code == 400
    assert "10-minute cooldown" in response.content.decode()
    assert 'class="countdown"' in response.content.decode()
    assert Submission.objects.count() == 1


def test_late_submissions_are_marked_and_extensions_move_the_deadline(client, world):
    past = timezone.now() - timedelta(days=1)
    Assignment.objects.filter(pk=world.assignment.pk).update(due_at=past, late_penalty_percent=50)
    graded(world, world.alice, 4, ["passed"] * 4)
    client.force_login(world.alice)
    page = client.get(reverse("assignment_detail", args=[world.assignment.pk])).content.decode()
    assert 'id="past-due"' in page and "badge late" in page
    Extension.objects.create(assignment=world.assignment, student=world.bob,
                             due_at=timezone.now() + timedelta(days=1))
    client.force_login(world.bob)
    page = client.get(reverse("assignment_detail", args=[world.assignment.pk])).content.decode()
    assert "(your extension)" in page and 'id="past-due"' not in page


# -- dashboard and export ----------------------------------------------------------------------

def test_dashboard_shows_latest_per_student_pass_rates_and_histogram(client, world):
    graded(world, world.alice, 1, ["passed", "failed"])
    graded(world, world.alice, 2, ["passed", "passed"])  # latest of alice
    graded(world, world.bob, 0, ["failed", "failed"])
    client.force_login(world.teacher)
    response = client.get(reverse("assignment_submissions", args=[world.assignment.pk]))
    board = response.context["board"]
    assert [(r.student.username, r.latest.attempt, r.attempts) for r in board.rows] == [
        ("alice", 2, 2), ("bob", 1, 1)]
    assert [(t.name, t.passed, t.total) for t in board.tests] == [("t0", 1, 2), ("t1", 1, 2)]
    assert dict(board.histogram)["0–10%"] == 1 and dict(board.histogram)["90–100%"] == 1
    assert board.total_submissions == 3
    filtered = client.get(reverse("assignment_submissions", args=[world.assignment.pk]),
                          {"q": "bo"}).context["board"]
    assert [r.student.username for r in filtered.rows] == ["bob"]


def test_dashboard_query_count_does_not_grow_with_submissions(client, world):
    client.force_login(world.teacher)
    url = reverse("assignment_submissions", args=[world.assignment.pk])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    world.assignment.max_attempts = None
    world.assignment.save()
    graded(world, world.alice, 1, ["passed"])
    few = queries()
    for _ in range(30):
        graded(world, world.bob, 0, ["failed", "passed"])
    assert queries() == few


def test_grade_export_applies_the_late_penalty_and_defuses_formulas(client, world):
    world.alice.first_name = "=HYPERLINK(1)"
    world.alice.save()
    Assignment.objects.filter(pk=world.assignment.pk).update(
        due_at=timezone.now() - timedelta(hours=1), late_penalty_percent=25)
    graded(world, world.alice, 4, ["passed"] * 4)
    graded(world, world.bob, 2, ["passed", "passed", "failed", "failed"],
           created_at=timezone.now() - timedelta(days=2))
    client.force_login(world.teacher)
    response = client.get(reverse("assignment_grades_csv", args=[world.assignment.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_user = {r["username"]: r for r in rows}
    assert by_user["alice"]["late"] == "yes" and float(by_user["alice"]["final_score"]) == 3.0
    assert by_user["bob"]["late"] == "no" and float(by_user["bob"]["final_score"]) == 2.0
    assert by_user["alice"]["first_name"] == "'=HYPERLINK(1)"


def test_teacher_regrades_the_latest_submission_of_each_student(
    client, world, django_capture_on_commit_callbacks
):
    world.assignment.max_attempts = None
    world.assignment.save()
    graded(world, world.alice, 1, ["passed", "failed"])
    latest = graded(world, world.alice, 2, ["passed", "passed"])
    client.force_login(world.ta)
    url = reverse("assignment_regrade", args=[world.assignment.pk])
    assert client.post(url, {"scope": "latest_per_student"}).status_code == 404  # TAs do not
    client.force_login(world.teacher)
    assert client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url, {"scope": "latest_per_student"}, follow=True)
    assert "1 submission queued for regrading." in response.content.decode()
    assert Submission.objects.get(pk=latest.pk).status == "queued"
    assert TestResult.objects.filter(submission=latest).count() == 2  # kept until replaced
