"""runpy.run_module with sys.argv patched, and the globals run_path returns."""

import runpy
import sys


def test_prints_the_number_of_arguments(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["solution", "a", "b"])
    runpy.run_module("solution", run_name="__main__")
    assert capsys.readouterr().out == "2\n"


def test_globals_of_the_run():
    namespace = runpy.run_path("solution.py")
    assert namespace["VERSION"] == "1.0"
    assert namespace["double"](4) == 8
