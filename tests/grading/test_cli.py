"""The one-shot CLI: `manage.py grade PACKAGE SUBMISSION --json`, no server needed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ROOT / "examples" / "packages"
SUBMISSIONS = ROOT / "examples" / "submissions"
pytestmark = pytest.mark.sandbox


def grade(
    package: Path, *submission: Path, json_out: bool = True
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "manage.py", "grade", str(package), *map(str, submission)]
    if json_out:
        argv.append("--json")
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)


def results(package: str, submission: str) -> dict:
    proc = grade(PACKAGES / package, SUBMISSIONS / package / submission)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_correct_python_solution_gets_full_marks_on_pytest_and_io_tests():
    out = results("add_two_numbers", "correct.py")
    assert out["score"] == out["max_score"] == 9
    kinds = {t["name"]: t for t in out["tests"]}
    assert "test_negative[-1-1-0]" in kinds and "sample 1" in kinds  # pytest cases and io tests
    assert all(t["status"] == "passed" and t["verdict"] == "passed" for t in out["tests"])
    assert kinds["negative numbers"]["visibility"] == "hidden"
    for t in out["tests"]:
        assert set(t) >= {"name", "score", "max_score", "status", "visibility", "output", "verdict"}


def test_wrong_python_solution_scores_less_with_the_failing_tests_explained():
    out = results("add_two_numbers", "wrong.py")
    assert out["score"] == 5 and out["max_score"] == 9
    failed = {t["name"]: t for t in out["tests"] if t["status"] == "failed"}
    assert set(failed) == {"test_negative[-1-1-0]", "test_negative[-5--6--11]", "negative numbers"}
    assert all(t["verdict"] == "failed" and t["score"] == 0 for t in failed.values())
    assert "expected" in failed["negative numbers"]["output"]


def test_c_solutions_correct_wrong_and_not_compiling():
    assert results("sum_list_c", "correct.c")["score"] == 4
    wrong = results("sum_list_c", "wrong.c")
    assert wrong["score"] == 2 and wrong["max_score"] == 4
    broken = results("sum_list_c", "broken.c")
    assert broken["gradable"] is False and broken["score"] == 0
    assert {t["verdict"] for t in broken["tests"]} == {"compile_error"}
    assert "total" in broken["output"]  # the compiler's message names the undeclared variable


def test_java_solution_is_compiled_and_graded():
    out = results("word_count_java", "WordCount.java")
    assert out["score"] == out["max_score"] == 2


def test_human_output_lists_each_test_and_the_score():
    proc = grade(
        PACKAGES / "add_two_numbers", SUBMISSIONS / "add_two_numbers" / "wrong.py", json_out=False
    )
    assert proc.returncode == 0
    assert "score: 5 / 9" in proc.stdout and "negative numbers" in proc.stdout


def test_malformed_package_exits_2_with_the_reason(tmp_path):
    (tmp_path / "assignment.toml").write_text('title = "x"\nlanguage = "cobol"\n')
    proc = grade(tmp_path, SUBMISSIONS / "add_two_numbers" / "correct.py")
    assert proc.returncode == 2
    assert "unknown language 'cobol'" in proc.stderr


def test_wrong_submission_file_type_exits_2(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    proc = grade(PACKAGES / "add_two_numbers", bad)
    assert proc.returncode == 2 and "expected a .py file" in proc.stderr


def test_file_io_tests_with_tmp_path_grade_as_under_plain_pytest():
    """word_report's tests write and read files in tmp_path, chdir into it and run the file as
    a program on one: plain pytest passes the correct solution 5/5 and the wrong one 2/5."""
    out = results("word_report", "correct.py")
    assert out["score"] == out["max_score"] == 5, [t["output"][-300:] for t in out["tests"]]
    out = results("word_report", "wrong.py")
    assert out["score"] == 2 and out["max_score"] == 5
    failed = sorted(t["name"] for t in out["tests"] if t["status"] == "failed")
    assert failed == ["test_counts_words_case_and_punctuation",
                      "test_report_is_sorted_by_count_then_word", "test_run_as_a_program"]
