"""mock.patch("sys.stdin", StringIO(...)) as a context manager."""

import io
from unittest import mock

import solution


def test_reverses_each_line():
    with mock.patch("sys.stdin", io.StringIO("abc\nxy\n")):
        assert solution.reversed_lines() == ["cba", "yx"]
