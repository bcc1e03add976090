"""A read-eval-print loop driven by a patched input() iterator, output checked with capsys."""

import solution


def test_menu_answers_each_command_then_says_bye(monkeypatch, capsys):
    answers = iter(["add 2 3", "mul 2 3", "q"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    solution.repl()
    assert capsys.readouterr().out == "5\n6\nbye\n"


def test_unknown_command(monkeypatch, capsys):
    answers = iter(["pow 2 3", "q"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    solution.repl()
    assert capsys.readouterr().out == "unknown command\nbye\n"
