"""Real browser: a submission that could not be graded, as the student and the teacher see it.

The rows are stored as the worker stores an ungradable report (tests/grading/test_ungradable.py
grades one for real); screenshots land in $SCREENSHOT_DIR (default var/screenshots).
"""

from __future__ import annotations

import pytest

from grader.grading.models import TestResult
from grader.submissions.models import Submission
from tests.browser.test_pages import browser, login, shot  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
CAUSE = (
    "The assignment's tests failed in tests/test_add.py: ModuleNotFoundError: No module named "
    "'numpyy'\n\nCollecting the tests failed:\nImportError while importing test module "
    "'/work/tests/test_add.py'.\nE   ModuleNotFoundError: No module named 'numpyy'"
)


@pytest.fixture
def ungradable(world) -> Submission:
    submission = Submission.objects.create(
        assignment=world.assignment, student=world.alice, attempt=1,
        status=Submission.Status.UNGRADABLE, error=CAUSE, execution_seconds=0.4,
    )
    TestResult.objects.create(
        submission=submission, position=0, name="tests/test_add.py", kind="pytest", score=0,
        max_score=1, verdict="sandbox_error", visibility="visible", output=CAUSE.split("\n\n")[1],
    )
    return submission


def test_student_and_teacher_pages_of_a_submission_that_could_not_be_graded(
    browser, live_server, world, ungradable  # noqa: F811 - browser is a fixture
):
    student = login(browser, live_server, "alice")
    student.goto(f"{live_server.url}/submissions/{ungradable.pk}/")
    text = student.inner_text("#live")
    assert "Could not be graded" in text
    assert "does not use an attempt and it does not start a cooldown" in text
    assert "numpyy" not in student.content()
    shot(student, "20-student-could-not-be-graded")
    student.goto(f"{live_server.url}/assignments/{world.assignment.pk}/")
    assert student.inner_text("#attempts-left") == "3"
    assert "(not counted)" in student.inner_text("main")
    student.close()

    teacher = login(browser, live_server, "teacher")
    teacher.goto(f"{live_server.url}/submissions/{ungradable.pk}/")
    assert "No module named 'numpyy'" in teacher.inner_text("#cause")
    shot(teacher, "21-teacher-could-not-be-graded")
    teacher.goto(f"{live_server.url}/assignments/{world.assignment.pk}/submissions/")
    section = teacher.inner_text("#not-graded")
    assert "alice" in section and "numpyy" in section
    shot(teacher, "22-dashboard-could-not-be-graded")
    teacher.click("#regrade-not-graded button")
    teacher.wait_for_load_state()
    assert "1 submission queued for regrading." in teacher.inner_text("main")
    teacher.close()
    ungradable.refresh_from_db()
    assert ungradable.status == Submission.Status.QUEUED and ungradable.queue == "batch"
