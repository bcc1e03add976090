"""runpy.run_path("solution.py", run_name="__main__") with stdin patched, output via capsys."""

import io
import runpy
import sys


def test_script_adds_two_numbers(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("2 3\n"))
    runpy.run_path("solution.py", run_name="__main__")
    assert capsys.readouterr().out == "5\n"


def test_running_under_another_name_does_nothing(capsys):
    runpy.run_path("solution.py")
    assert capsys.readouterr().out == ""
