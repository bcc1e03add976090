"""sys.argv set with monkeypatch; main() prints, or exits with a usage code."""

import sys

import pytest
import solution


def test_main_prints_the_sum_of_its_arguments(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["add.py", "3", "4"])
    solution.main()
    assert capsys.readouterr().out == "7\n"


def test_no_arguments_is_a_usage_error(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["add.py"])
    with pytest.raises(SystemExit) as exc:
        solution.main()
    assert exc.value.code == 2
