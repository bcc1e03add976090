"""The student left a print at the top of the module; capsys sees only the test's own call."""

import solution


def test_shout_prints_upper_case(capsys):
    solution.shout("hey")
    assert capsys.readouterr().out == "HEY\n"


def test_shout_twice(capsys):
    solution.shout("a")
    solution.shout("b")
    assert capsys.readouterr().out == "A\nB\n"
