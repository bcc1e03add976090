"""The student's docstring examples are run with doctest, as the assignment asks."""

import doctest

import solution


def test_the_examples_in_the_docstrings_pass():
    results = doctest.testmod(solution)
    assert results.attempted >= 2
    assert results.failed == 0
