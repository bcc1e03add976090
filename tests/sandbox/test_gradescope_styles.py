"""Autograders written the way Gradescope's documentation writes them grade as Gradescope would.

Each example package under examples/packages/gradescope_*/ is an autograder folder as a teacher
would upload it to Gradescope (setup.sh, run_autograder, its files), unchanged; each submission
under examples/submissions/gradescope_*/ has the score Gradescope would give it (the score the
autograder's results.json gives, out of the assignment's total).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.grade import grade
from sandbox.package import load_package
from sandbox.types import Verdict

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ROOT / "examples" / "packages"
SUBMISSIONS = ROOT / "examples" / "submissions"


@pytest.fixture(scope="module", autouse=True)
def _setup_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One setup.sh build per example for this module (the python one installs from PyPI)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADER_DATA_DIR", str(tmp_path_factory.mktemp("data")))
        yield


def graded(backend, example: str, submission: str, filename: str):
    package = load_package(PACKAGES / example)
    files = {filename: (SUBMISSIONS / example / submission).read_bytes()}
    return grade(package, files, backend)


def scored(report) -> dict[str, tuple[float, float, Verdict]]:
    return {t.name: (t.score, t.max_score, t.verdict) for t in report.tests}


# -- (a) Python, gradescope-utils' JSONTestRunner with @weight / @number / @visibility ---------

PYTHON = "gradescope_python_utils"


@pytest.mark.sandbox
def test_gradescope_utils_autograder_gives_a_correct_calculator_full_marks(backend):
    # setup.sh is Gradescope's: apt-get install python3 python3-pip python3-dev (already on
    # the sandbox system) and pip3 install -r requirements.txt (gradescope-utils from PyPI).
    report = graded(backend, PYTHON, "correct.py", "calculator.py")
    assert report.ungradable is None, report.ungradable
    assert (report.score, report.max_score) == (10, 10)
    # Sorted by @number as Gradescope shows them (1.10 after 1.4), named by docstring.
    assert [t.name for t in report.tests] == [
        "1.1 add(a, b)", "1.2 subtract(a, b)", "1.3 multiply(a, b)",
        "1.4 divide(a, b), by zero too", "1.10 add and multiply with large numbers",
        "2.1 evaluate(expression): one point per expression",
    ]
    assert report.tests[4].visibility == "after_due_date"  # @visibility("after_due_date")
    assert all(t.verdict == Verdict.PASSED for t in report.tests)


@pytest.mark.sandbox
def test_gradescope_utils_autograder_gives_partial_credit_for_a_wrong_divide(backend):
    report = graded(backend, PYTHON, "wrong_divide.py", "calculator.py")
    tests = scored(report)
    assert (report.score, report.max_score) == (7, 10)
    assert tests["1.4 divide(a, b), by zero too"] == (0, 2, Verdict.FAILED)
    # @partial_credit(4): 3 of the 4 expressions right, still a failed test.
    assert tests["2.1 evaluate(expression): one point per expression"] == (3, 4, Verdict.FAILED)
    assert "evaluate('10 / 4') gave 2.0" in report.tests[-1].output


@pytest.mark.sandbox
# syntax_error.txt is submitted as calculator.py (.txt only keeps the repository's linter off it).
@pytest.mark.parametrize("submission", ["incomplete.py", "syntax_error.txt"])
def test_test_files_that_fail_to_import_score_zero_out_of_the_full_total(backend, submission):
    # Both test modules fail to import the student's module: unittest reports two failed tests
    # worth nothing, so the submission scores 0 out of the assignment's 10 (not 0 out of 0), and
    # no compile step of ours stopped the syntax error before the autograder saw it.
    report = graded(backend, PYTHON, submission, "calculator.py")
    assert report.ungradable is None and report.gradable
    assert (report.score, report.max_score) == (0, 10)
    failed = [t for t in report.tests if t.verdict == Verdict.FAILED]
    assert any("calculator" in t.output for t in failed)
    assert report.tests[-1].name == "Tests the autograder did not report"


# -- (b) diff-style C: compile the student's C, diff against the expected output --------------

C_DIFF = "gradescope_c_diff"


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("submission", "score", "failing"),
    [
        ("correct.c", 6, []),
        ("int_overflow.c", 4, ["n = 90 (needs long long)"]),
        ("off_by_one.c", 0, ["small numbers", "medium numbers", "n = 90 (needs long long)"]),
        ("hangs.c", 2, ["medium numbers", "n = 90 (needs long long)"]),
    ],
)
def test_diff_autograder_scores_c_programs_by_their_output(backend, submission, score, failing):
    report = graded(backend, C_DIFF, submission, "fib.c")
    assert report.ungradable is None, report.ungradable
    assert (report.score, report.max_score) == (score, 6)
    assert [t.name for t in report.tests if t.verdict == Verdict.FAILED] == failing
    assert scored(report)["Compiles"][2] == Verdict.PASSED


@pytest.mark.sandbox
def test_diff_autograder_shows_a_wrong_output_as_a_diff_and_a_hang_as_a_timeout(backend):
    off = {t.name: t for t in graded(backend, C_DIFF, "off_by_one.c", "fib.c").tests}
    assert "-55" in off["medium numbers"].output and "+34" in off["medium numbers"].output
    hangs = {t.name: t for t in graded(backend, C_DIFF, "hangs.c", "fib.c").tests}
    assert "Timed out" in hangs["medium numbers"].output


@pytest.mark.sandbox
def test_a_c_program_that_does_not_compile_is_graded_by_the_autograder_not_by_us(backend):
    # Our C build would have stopped it with a compile error (no attempt used); for a
    # gradescope test the autograder compiles, and its results say what Gradescope would.
    report = graded(backend, C_DIFF, "no_compile.c", "fib.c")
    assert report.gradable and report.ungradable is None
    assert (report.score, report.max_score) == (0, 6)
    compiles = next(t for t in report.tests if t.name == "Compiles")
    assert compiles.verdict == Verdict.FAILED and "error" in compiles.output


# -- (c) bash that writes results.json itself --------------------------------------------------

BASH = "gradescope_bash"


@pytest.mark.sandbox
@pytest.mark.parametrize(
    ("submission", "score"),
    [("correct.py", 8), ("wrong_order.py", 6), ("off_by_one.py", 2), ("crashes.py", 0)],
)
def test_bash_autograder_scores_as_its_results_file_says(backend, submission, score):
    report = graded(backend, BASH, submission, "fizzbuzz.py")
    assert report.ungradable is None, report.ungradable
    assert (report.score, report.max_score) == (score, 8)
    tests = [t for t in report.tests if t.name.startswith("fizzbuzz.py")]
    assert sum(t.score for t in tests) == score and len(tests) == 4


@pytest.mark.sandbox
def test_bash_autograder_output_and_visible_stdout_reach_the_student(backend):
    report = graded(backend, BASH, "wrong_order.py", "fizzbuzz.py")
    tests = {t.name: t for t in report.tests}
    assert tests["Autograder output"].output.startswith("Ran fizzbuzz.py")
    stdout = tests["Autograder output (stdout)"]  # "stdout_visibility": "visible"
    assert stdout.visibility == "visible" and "6 points" in stdout.output
    assert "Expected:" in tests["fizzbuzz.py 15"].output
    assert tests["fizzbuzz.py 15"].verdict == Verdict.FAILED


# -- the Docker backend ------------------------------------------------------------------------


@pytest.mark.sandbox
@pytest.mark.docker
@pytest.mark.parametrize(
    ("example", "submission", "filename", "score", "total"),
    [
        (BASH, "wrong_order.py", "fizzbuzz.py", 6, 8),
        (C_DIFF, "int_overflow.c", "fib.c", 4, 6),
        ("gradescope_echo", "correct.py", "solution.py", 3, 3),
    ],
)
def test_the_same_autograders_grade_the_same_on_docker(
    docker_backend, example, submission, filename, score, total
):
    report = graded(docker_backend, example, submission, filename)
    assert report.ungradable is None, report.ungradable
    assert (report.score, report.max_score) == (score, total)
