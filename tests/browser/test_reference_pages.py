"""Real browser and a real grading worker: a teacher uploads a package with a reference solution
and sees it graded twice before publishing; a replaced package whose solution fails a test shows
the warning with the test; a student of the published assignment sees none of it.

Screenshots land in $SCREENSHOT_DIR (default var/screenshots).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.browser.test_pages import browser, login, shot  # noqa: F401 - a fixture
from tests.e2e.test_upload_to_graded import worker  # noqa: F401 - a fixture
from tests.grading.test_reference_check import zipped

ROOT = Path(__file__).resolve().parents[2]
RECURSIVE_SUM = ROOT / "examples" / "packages" / "recursive_sum"
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def zip_file(root: Path, target: Path) -> Path:
    target.write_bytes(zipped(root).read())
    return target


def reload_until(page, selector: str, text: str, timeout: float = 120) -> str:
    """The page does not poll for the check: reload it, as a teacher would."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.reload()
        if page.query_selector(selector) and text in page.inner_text(selector):
            return page.inner_text(selector)
        time.sleep(1)
    raise AssertionError(f"{text!r} not in {selector} after {timeout}s:\n{page.inner_text('main')}")


def test_teacher_sees_the_reference_solution_checked_before_publishing(
    browser, live_server, world, worker, tmp_path  # noqa: F811 - fixtures
):
    teacher = login(browser, live_server, "teacher")
    teacher.goto(f"{live_server.url}/courses/{world.course.pk}/assignments/new/")
    teacher.set_input_files("input[name=package]", str(zip_file(RECURSIVE_SUM,
                                                                tmp_path / "recursive_sum.zip")))
    teacher.uncheck("input[name=is_published]")
    teacher.fill("input[name=cooldown_minutes]", "0")
    teacher.click("text=Create assignment")
    teacher.wait_for_selector("text=Your reference solution is being checked")
    assert "Being checked." in teacher.inner_text("#reference-check")
    shot(teacher, "30-teacher-reference-pending")
    summary = reload_until(teacher, "#reference-check", "Full marks in both runs")
    assert "18 / 18" in summary
    shot(teacher, "31-teacher-reference-passed")
    assignment_url = teacher.url

    wrong = tmp_path / "recursive_sum"
    shutil.copytree(RECURSIVE_SUM, wrong)
    (wrong / "solution" / "solution.py").write_text(
        "def total(xs):\n    return total(xs[1:]) + xs[0] if xs else 0\n\n\n"
        "def reverse(xs):\n    out = []\n    for x in xs:\n        out.insert(0, x)\n"
        "    return out\n")
    teacher.goto(assignment_url + "edit/")
    teacher.set_input_files("#package-form input[name=package]",
                            str(zip_file(wrong, tmp_path / "v2.zip")))
    teacher.click("text=Replace package")
    teacher.wait_for_selector("text=Package replaced")
    section = reload_until(teacher, "#reference-check", "Warning")
    assert "your reference solution scores 14 / 18" in section
    assert "reverse is recursive" in section and "no loops" in section
    assert "line 7: a for loop" in section and "publishing is up to you" in section
    shot(teacher, "32-teacher-reference-warning")
    teacher.check("input[name=is_published]")
    teacher.click("#settings-form button[type=submit]")
    teacher.wait_for_selector("text=Settings saved.")
    teacher.close()

    student = login(browser, live_server, "alice")
    student.goto(assignment_url)
    assert "Recursion" in student.inner_text("h1")
    content = student.content()
    assert "reference-check" not in content and "Reference solution" not in content
    assert "out.insert(0, x)" not in content
    shot(student, "33-student-no-reference")
    student.close()


def test_set_up_shared_between_tests_is_named_and_the_reference_gets_full_marks(
    browser, live_server, world, worker, tmp_path  # noqa: F811 - fixtures
):
    # Uploaded as a teacher would: a module-scoped fixture whose student object the second
    # test expects to carry the first one's change. Each test replays the ones before it, so
    # the correct reference solution scores what plain pytest gives it: full marks.
    idiom = ROOT / "tests" / "sandbox" / "fidelity" / "module_fixture_shared_state"
    package = tmp_path / "account"
    shutil.copytree(idiom / "tests", package / "tests")
    (package / "solution").mkdir()
    shutil.copy(idiom / "correct.py", package / "solution" / "solution.py")
    (package / "assignment.toml").write_text(
        'title = "Bank account"\nlanguage = "python"\nsubmission = "solution.py"\n'
        '[[tests]]\ntype = "pytest"\nfile = "tests/test_account.py"\npoints = 2\n')
    teacher = login(browser, live_server, "teacher")
    teacher.goto(f"{live_server.url}/courses/{world.course.pk}/assignments/new/")
    teacher.set_input_files("input[name=package]", str(zip_file(package, tmp_path / "a.zip")))
    teacher.uncheck("input[name=is_published]")
    teacher.fill("input[name=cooldown_minutes]", "0")
    teacher.click("text=Create assignment")
    teacher.wait_for_selector("text=1 set-up(s) shared between tests")
    teacher.goto(teacher.url + "edit/")
    shared = teacher.inner_text("#package-cautions")
    assert "Tests that share set-up" in shared
    assert "tests/test_account.py:8 (account): scope='module' fixture account" in shared
    section = reload_until(teacher, "#reference-check", "Full marks in both runs")
    assert "4 / 4" in section  # 2 points for each of its two tests
    shot(teacher, "34-teacher-shared-set-up")
    teacher.close()
