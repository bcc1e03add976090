"""A broken package is "could not be graded": no score, no attempt, nothing sent; then regrade.

Real sandbox (bubblewrap), real hooks (LMS webhook, LTI score, feedback) with only their broker
sends recorded, so every row they would write is checked.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import reverse

from grader.courses.services import assignment_create_from_package, package_store
from grader.feedback.models import Feedback
from grader.grading.services import RegradeScope, submission_grade, submission_regrade
from grader.lms.lti.models import LtiGradeTarget, LtiPlatform, LtiScorePost, LtiUser
from grader.lms.lti.services import SCORE_SCOPE
from grader.lms.models import CourseIntegration, WebhookDelivery
from grader.lms.selectors import submission_results_payload
from grader.submissions.models import Submission
from grader.submissions.selectors import attempts_used, cooldown_left
from grader.submissions.services import submission_create
from tests.conftest import EXAMPLES, example_submission

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db]
STUDENT_SENTENCE = "This submission could not be graded: the assignment's tests could not be run"
SENT: list[tuple[str, int]] = []
REAL_HOOKS = [
    "grader.lms.webhooks.submission_graded_notify",
    "grader.feedback.services.feedback_request_on_graded",
    "grader.lms.lti.passback.lti_submission_graded",
]


def record_hook(submission_id: int) -> None:
    SENT.append(("hook", submission_id))


@pytest.fixture
def sends(monkeypatch, settings):
    """Every broker send the hooks and the regrade make, recorded instead of sent."""
    from grader.feedback import tasks as feedback_tasks
    from grader.lms import tasks as lms_tasks
    from grader.lms.lti import tasks as lti_tasks

    SENT.clear()
    settings.GRADED_HOOKS = [*REAL_HOOKS, "tests.grading.test_ungradable.record_hook"]
    settings.FEEDBACK_ENABLED = True
    monkeypatch.setattr(lms_tasks.deliver_webhook_task, "apply_async",
                        lambda args, **kw: SENT.append(("webhook", args[0])))
    monkeypatch.setattr(lti_tasks.post_score_task, "delay", lambda pk: SENT.append(("lti", pk)))
    monkeypatch.setattr(feedback_tasks.explain_submission_task, "delay",
                        lambda pk: SENT.append(("feedback", pk)))
    monkeypatch.setattr("grader.grading.tasks.enqueue_grading",
                        lambda pk, *, queue="grading": SENT.append((queue, pk)))
    return SENT


def package_copy(tmp_path: Path, name: str, *, broken_line: str = "") -> Path:
    """add_two_numbers, with ``broken_line`` put at the top of its pytest file."""
    root = tmp_path / name
    shutil.copytree(EXAMPLES / "packages" / "add_two_numbers", root)
    test = root / "tests" / "test_add.py"
    test.write_text(broken_line + test.read_text())
    return root


@pytest.fixture
def lms(world):
    """The course has an outbound webhook and alice an LTI grade target for the assignment."""
    CourseIntegration.objects.create(course=world.course, secret="s", callback_url="http://127.0.0.1:9/x")
    platform = LtiPlatform.objects.create(
        name="LMS", issuer="https://lms.example", client_id="c", deployment_ids="d",
        auth_login_url="https://lms.example/auth", course=world.course,
    )
    user = LtiUser.objects.create(platform=platform, sub="alice-sub", user=world.alice)
    return SimpleNamespace(platform=platform, user=user)


def broken_assignment(world, lms, tmp_path, broken_line="import numpyy  # not installed\n"):
    assignment = assignment_create_from_package(
        course=world.course, source=package_copy(tmp_path, "broken", broken_line=broken_line),
        max_attempts=1, cooldown_minutes=30,
    )
    LtiGradeTarget.objects.create(lti_user=lms.user, assignment=assignment, scopes=[SCORE_SCOPE],
                                  lineitem_url="https://lms.example/lineitems/1/lineitem")
    return assignment


def submit_and_grade(assignment, student, capture, name="correct.py") -> Submission:
    with capture(execute=True):
        submission = submission_create(
            assignment=assignment, student=student,
            uploads=[("solution.py", example_submission("add_two_numbers", name))],
        )
    with capture(execute=True):
        graded = submission_grade(submission_id=submission.id)
    assert graded is not None
    return graded


def test_a_test_file_that_fails_to_import_is_ungradable_uses_no_attempt_and_sends_nothing(
    world, lms, sends, tmp_path, client, django_capture_on_commit_callbacks
):
    assignment = broken_assignment(world, lms, tmp_path)
    submission = submit_and_grade(assignment, world.alice, django_capture_on_commit_callbacks)

    assert submission.status == Submission.Status.UNGRADABLE
    assert (submission.score, submission.max_score) == (None, None)  # never a 0
    assert "numpyy" in submission.error and "ModuleNotFoundError" in submission.error
    assert submission.gradable  # it compiled: this is not the compile-error path
    # No attempt used and no cooldown: with max_attempts = 1 alice may submit again at once.
    assert attempts_used(assignment=assignment, student=world.alice) == 0
    assert cooldown_left(assignment=assignment, student=world.alice) is None
    # No score to the webhook or LTI, no feedback asked for, no hook run at all.
    assert [s for s in sends if s[0] != "grading"] == []
    assert not WebhookDelivery.objects.exists()
    assert not LtiScorePost.objects.exists()
    assert not Feedback.objects.exists()

    # The student reads a plain sentence, and nothing of the teacher's tests.
    client.force_login(world.alice)
    page = client.get(reverse("submission_detail", args=[submission.pk])).content.decode()
    assert STUDENT_SENTENCE in page
    assert "does not use an attempt" in page
    assert "numpyy" not in page and "test_add" not in page and "Score:" not in page
    detail = client.get(reverse("assignment_detail", args=[assignment.pk])).content.decode()
    assert '<strong id="attempts-left">1</strong> attempt left' in detail
    assert "(not counted)" in detail
    # The API and webhook payload for the student's eyes: no score, no tests, no cause.
    payload = submission_results_payload(submission=submission, staff=False)
    assert (payload["status"], payload["score"], payload["tests"]) == ("ungradable", None, [])
    assert "numpyy" not in str(payload)
    assert "numpyy" in submission_results_payload(submission=submission, staff=True)["error"]

    # Staff see the cause, and the dashboard lists it with a regrade for it.
    client.force_login(world.teacher)
    page = client.get(reverse("submission_detail", args=[submission.pk])).content.decode()
    assert "numpyy" in page and "Cause" in page
    board = client.get(reverse("assignment_submissions", args=[assignment.pk])).content.decode()
    assert 'id="not-graded"' in board and "numpyy" in board
    assert 'name="scope" value="not_graded"' in board
    assert reverse("submission_detail", args=[submission.pk]) in board


def test_a_fixture_error_is_ungradable_and_uses_no_attempt(
    world, lms, sends, tmp_path, django_capture_on_commit_callbacks
):
    fixture = (
        "import pytest\n\n@pytest.fixture(autouse=True)\n"
        "def table():\n    return open('/work/tests/table.csv').read()\n\n"
    )
    assignment = broken_assignment(world, lms, tmp_path, broken_line=fixture)
    submission = submit_and_grade(assignment, world.alice, django_capture_on_commit_callbacks)
    assert submission.status == Submission.Status.UNGRADABLE
    assert "fixture" in submission.error and "table.csv" in submission.error
    assert attempts_used(assignment=assignment, student=world.alice) == 0
    assert not LtiScorePost.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_wrong_solution_still_scores_what_the_tests_give(
    world, lms, sends, tmp_path, django_capture_on_commit_callbacks
):
    assignment = broken_assignment(world, lms, tmp_path, broken_line="")
    submission = submit_and_grade(assignment, world.alice, django_capture_on_commit_callbacks,
                                  name="wrong.py")
    assert submission.status == Submission.Status.GRADED
    assert (submission.score, submission.max_score) == (5, 9)
    assert attempts_used(assignment=assignment, student=world.alice) == 1
    assert ("hook", submission.pk) in sends


def test_regrade_after_fixing_the_package_grades_normally_and_sends_the_score(
    world, lms, sends, tmp_path, client, django_capture_on_commit_callbacks
):
    assignment = broken_assignment(world, lms, tmp_path)
    submission = submit_and_grade(assignment, world.alice, django_capture_on_commit_callbacks)
    assert submission.status == Submission.Status.UNGRADABLE

    # The teacher fixes the package; the dashboard's regrade takes what could not be graded.
    fixed = package_store(source=package_copy(tmp_path, "fixed"))
    assignment.package_path, assignment.package_sha256 = str(fixed), fixed.name
    assignment.save()
    client.force_login(world.teacher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("assignment_regrade", args=[assignment.pk]),
                               {"scope": RegradeScope.NOT_GRADED})
    assert response.status_code == 302
    assert ("batch", submission.pk) in sends
    with django_capture_on_commit_callbacks(execute=True):
        regraded = submission_grade(submission_id=submission.pk)

    assert regraded is not None and regraded.status == Submission.Status.GRADED
    assert (regraded.score, regraded.max_score, regraded.error) == (9, 9, "")
    assert attempts_used(assignment=assignment, student=world.alice) == 1
    assert ("hook", submission.pk) in sends
    assert WebhookDelivery.objects.filter(submission=submission).count() == 1
    (post,) = LtiScorePost.objects.filter(submission=submission)
    assert (post.score_given, post.score_maximum) == (9, 9)
    board = client.get(reverse("assignment_submissions", args=[assignment.pk])).content.decode()
    assert 'id="not-graded"' not in board


def test_regrade_not_graded_takes_only_ungradable_and_failed_rows(world, sends):
    rows = {
        status: Submission.objects.create(assignment=world.assignment, student=world.alice,
                                          attempt=i + 1, status=status)
        for i, status in enumerate(["graded", "ungradable", "failed_infra", "queued"])
    }
    queued = submission_regrade(assignment=world.assignment, scope=RegradeScope.NOT_GRADED)
    assert sorted(queued) == sorted([rows["ungradable"].pk, rows["failed_infra"].pk])
