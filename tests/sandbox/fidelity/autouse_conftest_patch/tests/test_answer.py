"""An autouse fixture in conftest.py patches builtins.input for every test."""

import solution


def test_reads_the_answer():
    assert solution.answer() == 42


def test_answer_is_even():
    assert solution.answer() % 2 == 0
