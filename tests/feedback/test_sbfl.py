"""Fault localization details: structural lines lose ties; endless loops still leave coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedback.sbfl import is_structural, ochiai, ranked
from sandbox import get_backend
from sandbox.evidence import collect_traces
from sandbox.package import load_package

ROOT = Path(__file__).resolve().parents[2]

SOURCE = "def largest(xs):\n    best = 0\n    for x in xs:\n        best = max(best, x)\n"


def test_a_def_line_loses_a_tie_against_a_statement():
    scores = ochiai([({1, 2, 3, 4}, False)])  # one failing test covers every line: all tie
    assert ranked(scores)[0][0] == 1  # without the source the lowest line wins
    assert ranked(scores, source=SOURCE)[0][0] == 2  # with it, the first real statement


def test_structural_lines_are_recognized():
    assert all(map(is_structural, ["def f():", "  class A:", "import os", "from a import b",
                                   "@cache", "    else:", "", "   # note"]))
    assert not any(map(is_structural, ["x = 1", "return a + b", "if a < 0:", "definitely()"]))


@pytest.mark.sandbox
def test_an_endless_loop_still_reports_the_lines_it_ran(tmp_path):
    package = load_package(ROOT / "examples" / "packages" / "max_of_list")
    code = b"numbers = [int(x) for x in input().split()]\nwhile True:\n    pass\n"
    traces = collect_traces(get_backend(), package, {"largest.py": code})
    assert traces and all(t is not None and {1, 2, 3} <= t.covered for _, t in traces)
