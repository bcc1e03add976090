"""monkeypatch.delitem(sys.modules, ...) then import: the script runs again in each test."""

import io
import sys


def test_squares_five(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("5\n"))
    monkeypatch.delitem(sys.modules, "solution", raising=False)
    import solution  # noqa: F401

    assert capsys.readouterr().out == "25\n"


def test_squares_three(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("3\n"))
    monkeypatch.delitem(sys.modules, "solution", raising=False)
    import solution  # noqa: F401

    assert capsys.readouterr().out == "9\n"
