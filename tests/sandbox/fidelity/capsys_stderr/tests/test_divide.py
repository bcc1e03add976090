"""Errors printed to sys.stderr, checked apart from stdout."""

import solution


def test_division_by_zero_warns_on_stderr(capsys):
    assert solution.safe_div(1, 0) is None
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "division by zero" in captured.err


def test_ordinary_division(capsys):
    assert solution.safe_div(6, 3) == 2
