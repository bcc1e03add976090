"""contextlib.redirect_stdout into a StringIO, and mock.patch("sys.stdout")."""

import contextlib
import io
from unittest import mock

import solution


def test_report_into_a_buffer():
    with contextlib.redirect_stdout(io.StringIO()) as buffer:
        solution.report({"a": 1, "b": 2})
    assert buffer.getvalue() == "a: 1\nb: 2\n"


def test_report_with_patched_stdout():
    with mock.patch("sys.stdout", new_callable=io.StringIO) as out:
        solution.report({"z": 0})
    assert out.getvalue() == "z: 0\n"
