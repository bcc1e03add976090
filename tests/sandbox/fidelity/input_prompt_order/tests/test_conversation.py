"""sys.stdin patched; input()'s prompt and print() output in one capsys transcript."""

import io
import sys

import pytest
import solution


def test_conversation_is_printed_in_order(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("Bob\n"))
    solution.greet()
    assert capsys.readouterr().out == "Welcome!\nName: Hello, Bob!\n"


def test_end_of_input_raises_eoferror(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(EOFError):
        solution.greet()
