"""Reading input() until EOFError from a patched stdin; print's sep/end, sys.stdout.write and
pprint in what capsys sees; time.time patched for the student's clock."""

import io
import time

import solution


def test_sum_until_end_of_input(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("3\n4\n5\n"))
    solution.sum_lines()
    assert capsys.readouterr().out == "total: 12\n"


def test_print_styles(capsys):
    solution.show([1, 2, 3])
    assert capsys.readouterr().out == "1, 2, 3.\n[1, 2, 3]\ndone"


def test_elapsed_uses_the_patched_clock(monkeypatch):
    times = iter([100.0, 102.5])
    monkeypatch.setattr(time, "time", lambda: next(times))
    assert solution.elapsed() == 2.5
