"""Iterating over sys.stdin, and sys.stdin.readlines()."""

import io
import sys

import solution


def test_counts_non_empty_lines(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a\n\nb\nc\n"))
    assert solution.count_lines() == 3


def test_upper_cases_every_line(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("ab\ncd\n"))
    assert solution.upper_lines() == ["AB", "CD"]
