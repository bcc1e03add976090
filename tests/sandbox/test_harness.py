"""The pytest harness on honest submissions: results, messages, semantics, limits.

Every test here runs the real bubblewrap backend (a trusted and a student sandbox per test
file, a forked process of each per test case).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.types import Limits, Verdict
from tests.sandbox.harness_cases.support import (
    passed,
    run_case,
    submission,
    verdicts,
)

pytestmark = pytest.mark.sandbox

BASIC = "tests/test_basic.py"
STRUCTURES = "tests/test_structures.py"


def test_correct_solution_passes_every_test_and_skipped_ones_are_left_out(backend, tmp_path):
    sub = submission(tmp_path, case="basic", solution="basic_correct.py")
    results = run_case(backend, "basic", sub, BASIC)
    assert [r.nodeid for r in results] == [
        "tests/test_basic.py::test_add_small",
        "tests/test_basic.py::test_add_big",
        "tests/test_basic.py::test_add_param[1-2-3]",
        "tests/test_basic.py::test_add_param[-4-1--3]",
        "tests/test_basic.py::test_divide_by_zero_raises",
        "tests/test_basic.py::test_greeting_constant",
    ]
    assert all(r.verdict == Verdict.PASSED for r in results), results
    assert results[2].name == "test_add_param[1-2-3]"
    assert all(0 < r.wall_seconds < 3 for r in results)


def test_wrong_solution_fails_the_right_tests_with_readable_messages(backend, tmp_path):
    sub = submission(tmp_path, case="basic", solution="basic_wrong.py")
    results = {r.name: r for r in run_case(backend, "basic", sub, BASIC)}
    assert {n: r.verdict for n, r in results.items()} == {
        "test_add_small": Verdict.PASSED,
        "test_add_big": Verdict.FAILED,
        "test_add_param[1-2-3]": Verdict.PASSED,
        "test_add_param[-4-1--3]": Verdict.FAILED,
        "test_divide_by_zero_raises": Verdict.FAILED,
        "test_greeting_constant": Verdict.FAILED,
    }
    assert "assert 5 == -3" in results["test_add_param[-4-1--3]"].output
    assert "DID NOT RAISE" in results["test_divide_by_zero_raises"].output
    assert "'hi' == 'hello'" in results["test_greeting_constant"].output
    assert len(results["test_add_big"].output) <= 8000


def test_missing_function_fails_every_test_that_imports_it(backend, tmp_path):
    sub = submission(tmp_path, source="GREETING = 'hello'\n")
    results = run_case(backend, "basic", sub, BASIC)
    assert len(results) == 6 and passed(results) == 0
    assert all(r.verdict == Verdict.FAILED for r in results)
    assert "cannot import name 'add'" in results[0].output


def test_syntax_error_in_the_submission_is_a_compile_error(backend, tmp_path):
    sub = submission(tmp_path, source="def add(a, b)\n    return a + b\n")
    results = run_case(backend, "basic", sub, BASIC)
    assert {r.verdict for r in results} == {Verdict.COMPILE_ERROR}
    assert "SyntaxError" in results[0].output and "solution.py" in results[0].output


def test_exception_at_import_is_a_runtime_error_with_the_traceback(backend, tmp_path):
    sub = submission(tmp_path, case="basic", solution="basic_import_raises.py")
    results = run_case(backend, "basic", sub, BASIC)
    assert {r.verdict for r in results} == {Verdict.RUNTIME_ERROR}
    assert "RuntimeError: this module refuses to load" in results[0].output


def test_syntax_error_in_teacher_tests_is_one_sandbox_error(backend, tmp_path):
    tests = tmp_path / "pkg" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_broken.py").write_text("def test_x(:\n    pass\n")
    sub = submission(tmp_path, source="")
    results = run_case(backend, "", sub, "tests/test_broken.py", tests_dir=tests)
    assert len(results) == 1
    assert results[0].verdict == Verdict.SANDBOX_ERROR
    assert "SyntaxError" in results[0].output


def test_file_without_tests_gives_no_results(backend, tmp_path):
    tests = tmp_path / "pkg" / "tests"
    tests.mkdir(parents=True)
    (tests / "test_nothing.py").write_text("from solution import add\n")
    sub = submission(tmp_path, source="")
    assert run_case(backend, "", sub, "tests/test_nothing.py", tests_dir=tests) == []


def test_student_classes_generators_mutation_helpers_and_exceptions(backend, tmp_path):
    sub = submission(tmp_path, case="structures", solution="structures_correct.py")
    results = {r.name: r for r in run_case(backend, "structures", sub, STRUCTURES)}
    failed = {n: r.output for n, r in results.items()
              if r.verdict != Verdict.PASSED and n != "test_failing_assertion_shows_values"}
    assert failed == {}
    last = results["test_failing_assertion_shows_values"]
    assert last.verdict == Verdict.FAILED
    assert "assert 7 == 8" in last.output


def test_student_print_output_is_shown_with_a_failure(backend, tmp_path):
    source = (
        "def add(a, b):\n    print('debug:', a, b)\n    return 0\n"
        "def divide(a, b):\n    pass\n"
    )
    sub = submission(tmp_path, source=source)
    results = run_case(backend, "basic", sub, BASIC)
    assert "debug: 2 3" in results[0].output


def test_hanging_test_times_out_alone(backend, tmp_path):
    sub = submission(tmp_path, case="limits", solution="limits_correct.py")
    results = run_case(backend, "limits", sub, "tests/test_limits.py",
                       limits=Limits(wall_seconds=2.0, cpu_seconds=1.0, memory_mb=256))
    assert verdicts(results) == {
        "test_quick": Verdict.PASSED,
        "test_spins": Verdict.TIMEOUT,
        "test_sleeps": Verdict.TIMEOUT,
        "test_memory_bomb": Verdict.MEMORY,
        "test_crash": Verdict.RUNTIME_ERROR,
        "test_quick_again": Verdict.PASSED,
        "test_teacher_code_loops": Verdict.TIMEOUT,  # killed by the trusted side's own clock
    }
    by_name = {r.name: r for r in results}
    # CPU limit, or the wall clock first when the machine is busy and the spinner gets < 1 s CPU.
    assert "CPU" in by_name["test_spins"].output or "Timed out" in by_name["test_spins"].output
    assert "memory" in by_name["test_memory_bomb"].output
    assert by_name["test_sleeps"].wall_seconds < 6
    assert by_name["test_teacher_code_loops"].wall_seconds < 6


def test_submission_files_do_not_leak_between_tests(backend, tmp_path):
    # Each test gets a fresh copy of the submission folder: a file one test's run writes
    # is gone for the next.
    source = (
        "import os\n"
        "def add(a, b):\n"
        "    seen = os.path.exists('marker')\n"
        "    open('marker', 'w').close()\n"
        "    return a + b + seen\n"
        "GREETING = 'hello'\n"
        "def divide(a, b):\n"
        "    return a / b\n"
    )
    sub = submission(tmp_path, source=source)
    results = run_case(backend, "basic", sub, BASIC)
    assert passed(results) == 6
    assert not (Path(sub) / "marker").exists()
