"""Could not be graded: the teacher's package or our harness failed, never the student's 0.

A failure that cannot depend on the submission (the tests do not import, a fixture fails before
the student's code is used, a setup step or results file fails) makes the whole report
ungradable with a cause; a failure that may be the student's stays a verdict with points.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sandbox.grade import grade
from sandbox.harness.results import case_from_report, case_when_trusted_died
from sandbox.outcome import TestOutcome, ungradable
from sandbox.package import load_package
from sandbox.types import Fault, RunResult, Verdict
from tests.sandbox.test_gradescope import CORRECT, make_package, write_results

CORRECT_ADD = {"solution.py": b"def add(a, b):\n    return a + b\n"}
TOML = """
title = "T"
language = "python"
submission = "solution.py"
[limits]
wall_seconds = 5
cpu_seconds = 2
[[tests]]
type = "pytest"
file = "tests/test_it.py"
points = 1
[[tests]]
type = "io"
name = "sum"
stdin = "2 3\\n"
expected_stdout = "5\\n"
points = 2
"""
GOOD_TEST = """
from solution import add

def test_small():
    assert add(2, 3) == 5

def test_zero():
    assert add(0, 0) == 0
"""


def pytest_package(tmp_path: Path, test_source: str, **extra_files: str) -> Path:
    """A package with one pytest file (and an io test) whose files are given as source text."""
    root = tmp_path / "package"
    (root / "tests").mkdir(parents=True)
    (root / "assignment.toml").write_text(TOML)
    (root / "tests" / "test_it.py").write_text(textwrap.dedent(test_source))
    for name, source in extra_files.items():
        (root / "tests" / f"{name}.py").write_text(textwrap.dedent(source))
    return root


def solution_with_io(body: str) -> dict[str, bytes]:
    main = "\nif __name__ == '__main__':\n    a, b = map(int, input().split())\n    print(a + b)\n"
    return {"solution.py": (textwrap.dedent(body) + main).encode()}


# -- the summary, on plain data ----------------------------------------------------------------


def outcome(name: str, fault: Fault | None, output: str = "") -> TestOutcome:
    verdict = Verdict.SANDBOX_ERROR if fault else Verdict.PASSED
    return TestOutcome(name, 0.0, 1.0, verdict, "visible", output, fault=fault)


def test_every_test_with_a_result_means_a_grade():
    assert ungradable([outcome("a", None), outcome("b", None)]) is None
    assert ungradable([]) is None


def test_one_test_without_a_result_makes_the_submission_ungradable_with_its_cause():
    found = ungradable([outcome("a", None), outcome("tests/t.py", Fault.PACKAGE, "ImportError")])
    assert found is not None and found.fault == Fault.PACKAGE
    assert found.cause == "The assignment's tests failed in tests/t.py: ImportError"
    pytest_text = "Collecting the tests failed:\nTraceback:\nE   ModuleNotFoundError: numpyy"
    found = ungradable([outcome("tests/t.py", Fault.PACKAGE, pytest_text)])
    assert found is not None
    assert found.cause.startswith("The assignment's tests failed in tests/t.py: "
                                  "ModuleNotFoundError: numpyy\n\nCollecting the tests failed:")


def test_a_package_fault_is_named_before_a_harness_one_and_the_others_are_counted():
    found = ungradable([outcome("x", Fault.HARNESS, "runner died"),
                        outcome("y", Fault.PACKAGE, "bad fixture"),
                        outcome("z", Fault.HARNESS, "runner died")])
    assert found is not None and found.fault == Fault.PACKAGE
    assert found.cause.startswith("The assignment's tests failed in y: bad fixture")
    assert found.cause.endswith("(and 2 more tests without a result)")
    assert len(ungradable([outcome("y", Fault.HARNESS, "x" * 50_000)]).cause) <= 4000


def _report(**changes: object) -> dict[str, object]:
    report = {"op": "result", "index": 0, "nodeid": "tests/t.py::test_a", "outcome": "failed",
              "reason": "failed", "output": "boom", "seconds": 0.1}
    return {**report, **changes}


def test_harness_reasons_carry_whose_fault_it_was():
    from concurrent.futures import Future

    run = RunResult(Verdict.PASSED, 0, None, b"", b"", 0.1, 0.1, 1000)
    done: Future[RunResult] = Future()
    done.set_result(run)

    def case(**changes: object):
        return case_from_report("tests/t.py::test_a", _report(**changes), done, 5)

    assert (case(reason="fixture").verdict, case(reason="fixture").fault) == (
        Verdict.SANDBOX_ERROR, Fault.PACKAGE)
    assert case(reason="fixture").output.startswith("A fixture of the tests failed before")
    assert case(reason="crash").fault == Fault.HARNESS
    assert case(extra=1).fault == Fault.HARNESS  # a malformed report
    for reason in ("failed", "import", "compile", "memory", "protocol", "value", "timeout"):
        assert case(reason=reason).fault is None, reason
    died = case_when_trusted_died("tests/t.py::test_a", run.__class__(
        Verdict.RUNTIME_ERROR, 1, None, b"", b"", 0.1, 0.1, 1000), "gone")
    assert died.fault == Fault.HARNESS


# -- the teacher's pytest package, in the real sandbox -----------------------------------------


@pytest.mark.sandbox
def test_a_test_file_that_fails_to_import_makes_the_submission_ungradable(backend, tmp_path):
    package = load_package(pytest_package(tmp_path, "import numpyy\n" + GOOD_TEST))
    report = grade(package, solution_with_io("def add(a, b):\n    return a + b\n"), backend)
    assert report.ungradable is not None and report.ungradable.fault == Fault.PACKAGE
    assert "ModuleNotFoundError" in report.ungradable.cause
    assert "numpyy" in report.ungradable.cause
    pytest_result = next(t for t in report.tests if t.kind == "pytest")
    assert (pytest_result.verdict, pytest_result.fault) == (Verdict.SANDBOX_ERROR, Fault.PACKAGE)
    results = report.to_results_json()
    assert results["score"] is None  # never a 0
    assert results["ungradable"]["fault"] == "package"
    # The io test ran and passed: the submission is still ungradable as a whole.
    assert next(t for t in report.tests if t.kind == "io").verdict == Verdict.PASSED


@pytest.mark.sandbox
def test_a_helper_module_that_crashes_at_import_is_the_packages_fault(backend, tmp_path):
    source = "from helpers import EXPECTED\n" + GOOD_TEST
    root = pytest_package(tmp_path, source, helpers="raise RuntimeError('helper is broken')\n")
    report = grade(load_package(root), solution_with_io("def add(a, b): return a + b\n"), backend)
    assert report.ungradable is not None and report.ungradable.fault == Fault.PACKAGE
    assert "helper is broken" in report.ungradable.cause


@pytest.mark.sandbox
def test_a_fixture_error_before_the_student_code_is_used_is_the_packages_fault(backend, tmp_path):
    conftest = """
    import json
    import pytest

    @pytest.fixture
    def cases():
        with open("/work/tests/cases.json") as fh:  # the teacher forgot to ship it
            return json.load(fh)
    """
    source = """
    from solution import add

    def test_cases(cases):
        for a, b, expected in cases:
            assert add(a, b) == expected
    """
    root = pytest_package(tmp_path, source, conftest=conftest)
    report = grade(load_package(root), solution_with_io("def add(a, b): return a + b\n"), backend)
    assert report.ungradable is not None and report.ungradable.fault == Fault.PACKAGE, report
    assert "FileNotFoundError" in report.ungradable.cause
    assert "fixture" in report.ungradable.cause


@pytest.mark.sandbox
def test_a_fixture_that_fails_on_the_students_value_stays_the_students_result(backend, tmp_path):
    conftest = """
    import pytest
    import solution

    @pytest.fixture
    def board():
        return solution.make_board()[0]  # the student's make_board returns None
    """
    source = """
    def test_board(board):
        assert board == [0, 0, 0]
    """
    root = pytest_package(tmp_path, source, conftest=conftest)
    files = solution_with_io("def make_board():\n    return None\n")
    report = grade(load_package(root), files, backend)
    assert report.ungradable is None
    pytest_result = next(t for t in report.tests if t.kind == "pytest")
    assert (pytest_result.verdict, pytest_result.fault) == (Verdict.FAILED, None)
    assert "error during setup" in pytest_result.output


@pytest.mark.sandbox
def test_a_fixture_that_calls_crashing_student_code_stays_the_students_result(backend, tmp_path):
    conftest = """
    import pytest
    from solution import Stack

    @pytest.fixture
    def stack():
        return Stack()
    """
    source = """
    def test_push(stack):
        stack.push(1)
        assert stack.pop() == 1
    """
    root = pytest_package(tmp_path, source, conftest=conftest)
    files = solution_with_io("class Stack:\n    def __init__(self):\n        raise ValueError\n")
    report = grade(load_package(root), files, backend)
    assert report.ungradable is None
    assert next(t for t in report.tests if t.kind == "pytest").verdict == Verdict.FAILED


@pytest.mark.sandbox
def test_a_student_crash_at_import_stays_the_students_result(backend, tmp_path):
    package = load_package(pytest_package(tmp_path, GOOD_TEST))
    report = grade(package, {"solution.py": b"raise RuntimeError('student bug')\n"}, backend)
    assert report.ungradable is None
    assert {t.verdict for t in report.tests} == {Verdict.RUNTIME_ERROR}
    assert report.to_results_json()["score"] == 0


@pytest.mark.sandbox
def test_a_compile_error_is_still_the_students_not_counted_result(backend):
    root = Path(__file__).resolve().parents[2] / "examples"
    package = load_package(root / "packages" / "sum_list_c")
    broken = (root / "submissions" / "sum_list_c" / "broken.c").read_bytes()
    report = grade(package, {package.submission: broken}, backend)
    assert report.gradable is False and report.ungradable is None
    assert {t.verdict for t in report.tests} == {Verdict.COMPILE_ERROR}


# -- gradescope: the setup step and the results file -------------------------------------------


@pytest.mark.sandbox
def test_a_failing_gradescope_setup_step_makes_the_submission_ungradable(backend, tmp_path):
    root = make_package(tmp_path, write_results({"score": 1}), setup="exit 7\n",
                        extra="points = 4")
    report = grade(load_package(root), CORRECT, backend)
    assert report.ungradable is not None and report.ungradable.fault == Fault.PACKAGE
    assert "setup.sh failed" in report.ungradable.cause


@pytest.mark.sandbox
def test_an_untrustworthy_results_file_makes_the_submission_ungradable(backend, tmp_path):
    root = make_package(tmp_path, "ln -s /etc/passwd /autograder/results/results.json\n",
                        extra="points = 4")
    report = grade(load_package(root), CORRECT, backend)
    assert report.ungradable is not None and report.ungradable.fault == Fault.PACKAGE
    assert "not a regular file" in report.ungradable.cause
    assert "root:" not in report.ungradable.cause


@pytest.mark.sandbox
def test_an_autograder_that_times_out_is_still_a_result(backend, tmp_path):
    root = make_package(tmp_path, "sleep 30\n", extra="points = 4", wall=1)
    report = grade(load_package(root), CORRECT, backend)
    assert report.ungradable is None
    assert report.tests[0].verdict == Verdict.TIMEOUT
