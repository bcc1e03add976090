"""importlib.reload() of the student module runs its top level again, reading new input."""

import importlib
import io
import sys


def test_reload_reads_the_next_line(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("2\n3\n"))
    monkeypatch.delitem(sys.modules, "solution", raising=False)
    import solution

    importlib.reload(solution)
    assert capsys.readouterr().out == "4\n9\n"
