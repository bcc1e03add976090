"""pytest.raises(SystemExit) around a student main(), the code and what it printed."""

import pytest
import solution


def test_missing_arguments_exit_with_one(capsys):
    with pytest.raises(SystemExit) as exc:
        solution.main([])
    assert exc.value.code == 1
    assert capsys.readouterr().err == "need a number\n"


def test_success_returns_normally(capsys):
    solution.main(["4"])
    assert capsys.readouterr().out == "16\n"
