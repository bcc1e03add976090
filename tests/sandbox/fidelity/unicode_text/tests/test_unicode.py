"""Non-ASCII text in and out: accents, emoji, casefold, printed and returned."""

import solution


def test_reverse_keeps_accents():
    assert solution.reverse("café") == "éfac"


def test_counts_emoji_as_one_character():
    assert solution.length("hi 👋") == 4


def test_printed_greeting(capsys):
    solution.greet("Zoë")
    assert capsys.readouterr().out == "¡Hola, Zoë!\n"
