"""sys.stdin replaced by a StringIO (monkeypatch, by dotted name); the student reads it all."""

import io

import solution


def test_sums_every_number_on_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("1 2 3\n4\n"))
    assert solution.total() == 10


def test_empty_input_sums_to_zero(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert solution.total() == 0
