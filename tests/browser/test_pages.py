"""Real browser: Playwright drives Debian's Chromium against a live server and a real worker.

A teacher creates an assignment from a package zip and opens the dashboard; a student uploads
a file through the page and watches it go queued → graded. Screenshots of the main pages land
in $SCREENSHOT_DIR (default var/screenshots); the README shows copies from docs/screenshots.
"""

from __future__ import annotations

import io
import os
import shutil
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_upload_to_graded import feedback_worker, worker  # noqa: F401 - fixtures

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "var" / "screenshots"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Playwright's sync API keeps an asyncio loop in this thread; Django then refuses ORM
    # calls from it unless told this synchronous use is deliberate (the test's own fixtures).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it in CI)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def feedback_diagnosis() -> str:
    """What a timed-out wait for feedback should say: the rows, and the worker's last words."""
    from grader.feedback.models import Feedback

    rows = list(Feedback.objects.values("submission_id", "status", "error"))
    log = ROOT / "var" / "log" / "test-worker-grading-feedback.log"
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no worker log)"
    return f"no feedback reached the review queue; feedback rows: {rows}\nworker log:\n{tail}"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(browser, live_server, username: str):
    page = browser.new_page(viewport={"width": 1100, "height": 850})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-" + username)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def package_zip(tmp_path: Path) -> Path:
    root = ROOT / "examples" / "packages" / "sum_list_c"
    target = tmp_path / "sum_list_c.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in root.rglob("*"):
            if path.is_file():
                zf.write(path, f"sum_list_c/{path.relative_to(root)}")
    target.write_bytes(buf.getvalue())
    return target


def test_teacher_creates_an_assignment_and_a_student_gets_graded(
    browser, live_server, world, worker, tmp_path  # noqa: F811 - worker is a fixture
):
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    page.goto(f"{live_server.url}/accounts/login/")
    shot(page, "01-login")
    page.close()

    teacher = login(browser, live_server, "teacher")
    teacher.click("text=CS101")
    teacher.click("text=New assignment")
    teacher.set_input_files("input[name=package]", str(package_zip(tmp_path)))
    teacher.fill("input[name=max_attempts]", "5")
    teacher.fill("input[name=cooldown_minutes]", "0")
    shot(teacher, "02-teacher-new-assignment")
    teacher.click("text=Create assignment")
    teacher.wait_for_selector("text=Created “Sum a list (C)”")
    assignment_url = teacher.url

    student = login(browser, live_server, "alice")
    student.goto(assignment_url)
    shot(student, "03-student-assignment")
    wrong = ROOT / "examples" / "submissions" / "sum_list_c" / "wrong.c"
    student.set_input_files("input[type=file]", str(wrong))
    student.click("#submit")
    student.wait_for_selector("#status")
    student.wait_for_selector("#score", timeout=90_000)  # the page polls until graded
    assert student.inner_text("#score") == "2 / 4"
    assert "large values" not in student.inner_text(".results")  # hidden: count and points only
    assert "1 hidden test" in student.content()
    shot(student, "04-student-graded")

    teacher.click("text=Dashboard")
    teacher.wait_for_selector("#students")
    assert "alice" in teacher.inner_text("#students")
    shot(teacher, "05-teacher-dashboard")
    teacher.click("#students a")
    teacher.wait_for_selector("text=large values")  # staff see hidden tests
    shot(teacher, "06-teacher-submission")
    teacher.goto(assignment_url + "edit/")
    shot(teacher, "07-teacher-settings")



def test_a_wrong_upload_gets_a_checked_explanation_the_teacher_approves(
    browser, live_server, world, feedback_worker  # noqa: F811 - a fixture
):
    """The demo's path: a real worker grades, traces, searches and checks repairs in the
    sandbox, and the explanation waits for the teacher; the student sees it once approved."""
    student = login(browser, live_server, "alice")
    student.goto(f"{live_server.url}/assignments/{world.assignment.pk}/")
    wrong = ROOT / "examples" / "submissions" / "add_two_numbers" / "wrong.py"
    student.set_input_files("input[type=file]", str(wrong))
    student.click("#submit")
    student.wait_for_selector("#score", timeout=90_000)
    assert student.inner_text("#score") == "5 / 9"

    teacher = login(browser, live_server, "teacher")
    review = f"{live_server.url}/courses/{world.course.pk}/review/"
    # The feedback task runs after grading, on the same worker: traced runs, the repair search
    # and the CPU model take about 30 s on a quiet machine, several times that on a busy CI one.
    deadline = time.monotonic() + 300
    while not teacher.query_selector(".review-item"):
        assert time.monotonic() < deadline, feedback_diagnosis()
        teacher.wait_for_timeout(2000)
        teacher.goto(review)
    item = teacher.inner_text(".review-item")
    assert "validated" in item and "line 3" in item
    assert "return b + a" in item  # the checked repair, for the teacher only
    assert "test_negative" in item  # the failing test the explanation is grounded in
    shot(teacher, "08-teacher-review-queue")
    teacher.click("button[value=approve]")
    teacher.wait_for_selector("#empty-queue")
    student.reload()
    student.wait_for_selector(".feedback")
    text = student.inner_text(".feedback")
    assert "line 3" in text and "add(-1, 1)" in text
    assert "b + a" not in student.content()  # never the repair
    shot(student, "09-student-feedback")


def test_teacher_settings_extensions_regrade_export_and_student_cooldown(
    browser, live_server, world, worker, tmp_path  # noqa: F811 - worker is a fixture
):
    from grader.feedback.models import Feedback
    from grader.submissions.models import Submission

    # The teacher sets a cooldown and grants bob an extension in the browser.
    teacher = login(browser, live_server, "teacher")
    teacher.goto(f"{live_server.url}/assignments/{world.assignment.pk}/edit/")
    teacher.fill("#settings-form input[name=cooldown_minutes]", "5")
    teacher.fill("#settings-form input[name=late_penalty_percent]", "10")
    teacher.click("#settings-form button[type=submit]")
    teacher.wait_for_selector("text=Settings saved.")
    teacher.fill("#extension-form input[name=username]", "bob")
    teacher.fill("#extension-form input[name=due_at]", "2030-01-01T12:00")
    teacher.click("#extension-form button[type=submit]")
    teacher.wait_for_selector("text=Extension saved.")
    assert "bob" in teacher.inner_text("table")

    # A student drops a file on the page; after it, the cooldown timer blocks the next one.
    student = login(browser, live_server, "alice")
    student.goto(f"{live_server.url}/assignments/{world.assignment.pk}/")
    wrong = ROOT / "examples" / "submissions" / "add_two_numbers" / "wrong.py"
    student.set_input_files("input[type=file]", str(wrong))
    assert "wrong.py" in student.inner_text(".drop span")  # the drop zone names the file
    student.click("#submit")
    student.wait_for_selector("#score", timeout=90_000)
    assert student.inner_text("#score") == "5 / 9"
    student.click("text=Add two numbers")
    assert student.is_disabled("#submit")
    assert "Next attempt possible in" in student.inner_text("#cooldown")
    assert "#1" in student.inner_text("table")  # history
    shot(student, "10-student-cooldown-history")
    bob = login(browser, live_server, "bob")
    bob.goto(f"{live_server.url}/assignments/{world.assignment.pk}/")
    assert "(your extension)" in bob.content()

    # Regrade and export from the dashboard.
    teacher.goto(f"{live_server.url}/assignments/{world.assignment.pk}/submissions/")
    teacher.click("#regrade button")
    teacher.wait_for_selector("text=1 submission queued for regrading.")
    with teacher.expect_download() as download:
        teacher.click("text=Export grades (CSV)")
    csv_text = Path(download.value.path()).read_text()
    assert csv_text.startswith("username,") and "alice" in csv_text

    # Reject one feedback item, bulk-approve the confident one.
    submission = Submission.objects.get(student=world.alice)
    unsure, _ = Feedback.objects.update_or_create(submission=submission, defaults={
        "status": Feedback.Status.PENDING_REVIEW, "line": 1, "agreement": 1 / 3,
        "samples_count": 3, "explanation": "unsure",
    })
    other = Submission.objects.create(assignment=world.assignment, student=world.bob, attempt=1,
                                      status="graded", score=0, max_score=9)
    sure = Feedback.objects.create(submission=other, status=Feedback.Status.PENDING_REVIEW,
                                   line=3, agreement=1.0, samples_count=3, explanation="sure",
                                   verification="validated")
    teacher.goto(f"{live_server.url}/courses/{world.course.pk}/review/")
    teacher.click(f"#feedback-{unsure.pk} button[value=reject]")
    teacher.wait_for_selector("text=Feedback rejected")
    teacher.click("#bulk button")
    teacher.wait_for_selector("#empty-queue")
    unsure.refresh_from_db()
    sure.refresh_from_db()
    assert (unsure.status, sure.status) == ("rejected", "released")
