"""Pages and who may see them: student, TA, teacher, outsider, anonymous."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from grader.grading.models import TestResult
from grader.submissions.models import Submission
from grader.submissions.services import submission_create
from tests.conftest import example_submission

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def upload(client, assignment, *files):
    url = reverse("assignment_detail", args=[assignment.pk])
    return client.post(url, {"upload": list(files)})


def graded_submission(world, student):
    """A submission with one visible and one hidden result, stored as a worker would."""
    submission = submission_create(
        assignment=world.assignment,
        student=student,
        uploads=[("solution.py", b"def add(a, b): return a - b\n")],
    )
    TestResult.objects.create(
        submission=submission,
        position=0,
        name="visible one",
        kind="io",
        score=0,
        max_score=1,
        verdict="failed",
        visibility="visible",
        output="line 1: expected '5', got '-1'",
    )
    TestResult.objects.create(
        submission=submission,
        position=1,
        name="SECRET-hidden-name",
        kind="io",
        score=0,
        max_score=2,
        verdict="failed",
        visibility="hidden",
        output="SECRET-hidden-output",
    )
    Submission.objects.filter(pk=submission.pk).update(status="graded", score=0, max_score=3)
    return submission


def test_anonymous_is_sent_to_login(client, world):
    for url in [reverse("home"), reverse("assignment_detail", args=[world.assignment.pk])]:
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_login_page_renders_and_logs_in(client, world):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302
    assert "CS101" in client.get(reverse("home")).content.decode()


def test_student_sees_course_and_assignment_with_attempts_left(client, world):
    login(client, world.alice)
    page = client.get(reverse("assignment_detail", args=[world.assignment.pk])).content.decode()
    assert "Add two numbers" in page and 'id="attempts-left">3<' in page


@pytest.mark.parametrize("who", ["outsider"])
def test_outsider_gets_404_for_course_assignment_and_submission_list(client, world, who):
    login(client, getattr(world, who))
    for url in [
        reverse("course_detail", args=[world.course.pk]),
        reverse("assignment_detail", args=[world.assignment.pk]),
        reverse("assignment_submissions", args=[world.assignment.pk]),
    ]:
        assert client.get(url).status_code == 404


def test_upload_creates_a_queued_submission_and_enqueues_it_on_commit(
    client, world, django_capture_on_commit_callbacks
):
    login(client, world.alice)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(
            client,
            world.assignment,
            SimpleUploadedFile(
                "my_solution.py", example_submission("add_two_numbers", "correct.py")
            ),
        )
    submission = Submission.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("submission_detail", args=[submission.pk])
    assert submission.status == "queued" and submission.attempt == 1
    assert len(callbacks) == 1
    stored = submission.files.get()
    assert stored.name == "solution.py" and len(stored.sha256) == 64


def test_upload_of_a_zip_with_several_files(client, world):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hw/solution.py", "from util import f\n")
        zf.writestr("hw/util.py", "def f(): pass\n")
    login(client, world.alice)
    upload(client, world.assignment, SimpleUploadedFile("hw.zip", buf.getvalue()))
    names = list(Submission.objects.get().files.values_list("name", flat=True))
    assert names == ["solution.py", "util.py"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("solution.txt", b"hello", "expected a .py file named solution.py"),
        ("solution.py", b"x = '\xff'", "not UTF-8 text"),
        ("solution.py", b"#" * 2_500_000, "the limit is 2,000,000 bytes"),
        ("evil.zip", None, "points outside the upload"),
    ],
)
def test_bad_upload_shows_a_clear_error_and_stores_nothing(client, world, name, content, message):
    if content is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("../solution.py", "x")
        content = buf.getvalue()
    login(client, world.alice)
    response = upload(client, world.assignment, SimpleUploadedFile(name, content))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Submission.objects.exists()


def test_no_attempts_left_refuses_the_upload(client, world):
    world.assignment.max_attempts = 1
    world.assignment.save()
    login(client, world.alice)
    upload(client, world.assignment, SimpleUploadedFile("solution.py", b"x = 1\n"))
    response = upload(client, world.assignment, SimpleUploadedFile("solution.py", b"x = 2\n"))
    assert response.status_code == 400
    assert "used all 1 attempts" in response.content.decode()
    assert Submission.objects.count() == 1


def test_compile_errors_do_not_use_an_attempt(world):
    world.assignment.max_attempts = 1
    world.assignment.save()
    first = submission_create(
        assignment=world.assignment, student=world.alice, uploads=[("solution.py", b"def (:\n")]
    )
    Submission.objects.filter(pk=first.pk).update(status="graded", gradable=False)
    second = submission_create(
        assignment=world.assignment, student=world.alice, uploads=[("solution.py", b"x = 1\n")]
    )
    assert second.attempt == 2


def test_student_sees_visible_details_but_only_a_count_of_hidden_tests(client, world):
    submission = graded_submission(world, world.alice)
    login(client, world.alice)
    for url in [
        reverse("submission_detail", args=[submission.pk]),
        reverse("submission_status", args=[submission.pk]),
    ]:
        page = client.get(url).content.decode()
        assert "visible one" in page and "expected &#x27;5&#x27;" in page
        assert "1 hidden test" in page and "0 / 2" in page
        assert "SECRET" not in page


@pytest.mark.parametrize("who", ["teacher", "ta"])
def test_staff_see_hidden_test_details(client, world, who):
    submission = graded_submission(world, world.alice)
    login(client, getattr(world, who))
    page = client.get(reverse("submission_detail", args=[submission.pk])).content.decode()
    assert "SECRET-hidden-name" in page and "SECRET-hidden-output" in page


@pytest.mark.parametrize("who", ["bob", "outsider"])
def test_other_students_and_outsiders_cannot_open_a_submission_by_url(client, world, who):
    submission = graded_submission(world, world.alice)
    login(client, getattr(world, who))
    for name in ["submission_detail", "submission_status"]:
        assert client.get(reverse(name, args=[submission.pk])).status_code == 404


def test_student_cannot_open_the_teacher_list(client, world):
    login(client, world.alice)
    response = client.get(reverse("assignment_submissions", args=[world.assignment.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("who", ["teacher", "ta"])
def test_staff_list_every_submission(client, world, who):
    graded_submission(world, world.alice)
    submission_create(
        assignment=world.assignment, student=world.bob, uploads=[("solution.py", b"x = 1\n")]
    )
    login(client, getattr(world, who))
    page = client.get(
        reverse("assignment_submissions", args=[world.assignment.pk])
    ).content.decode()
    assert "alice" in page and "bob" in page


def test_queued_submission_shows_its_queue_position(client, world):
    submission_create(
        assignment=world.assignment, student=world.bob, uploads=[("solution.py", b"x = 1\n")]
    )
    mine = submission_create(
        assignment=world.assignment, student=world.alice, uploads=[("solution.py", b"x = 1\n")]
    )
    login(client, world.alice)
    page = client.get(reverse("submission_status", args=[mine.pk])).content.decode()
    assert "position 2 in the grading queue" in page and 'data-final="false"' in page


def test_a_dead_broker_does_not_fail_the_upload_and_the_submission_stays_queued(
    client, world, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from grader.grading.tasks import grade_submission_task

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(grade_submission_task, "apply_async", refuse)
    login(client, world.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, world.assignment, SimpleUploadedFile("solution.py", b"x = 1\n"))
    assert response.status_code == 302
    assert Submission.objects.get().status == "queued"
