"""Reading and writing files: the tests make them in tmp_path, as under plain pytest."""

import subprocess
import sys

import pytest
from solution import count_words, write_report


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("The cat saw the dog.\nThe dog ran!\n")
    return path


def test_counts_words_case_and_punctuation(text_file):
    assert count_words(text_file) == {"the": 3, "cat": 1, "saw": 1, "dog": 2, "ran": 1}


def test_an_empty_file_has_no_words(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert count_words(str(empty)) == {}


def test_report_is_sorted_by_count_then_word(tmp_path):
    out = tmp_path / "report.txt"
    write_report({"b": 2, "a": 2, "c": 5}, out)
    assert out.read_text().splitlines() == ["c 5", "a 2", "b 2"]


def test_relative_paths_use_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "in.txt").write_text("x y x\n")
    monkeypatch.chdir(tmp_path)
    write_report(count_words("in.txt"), "out.txt")
    assert (tmp_path / "out.txt").read_text() == "x 2\ny 1\n"


def test_run_as_a_program(text_file, tmp_path):
    report = tmp_path / "report.txt"
    done = subprocess.run([sys.executable, "solution.py", str(text_file), str(report)],
                          capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    assert report.read_text().splitlines()[:2] == ["the 3", "dog 2"]
