"""An infinite student generator, sliced and stepped on the test's side."""

import itertools

import solution


def test_first_squares():
    assert list(itertools.islice(solution.squares(), 4)) == [0, 1, 4, 9]


def test_next_steps_through():
    gen = solution.squares()
    next(gen)
    assert next(gen) == 1
    assert next(gen) == 4


def test_zip_with_a_range():
    assert [a + b for a, b in zip(solution.squares(), range(3))] == [0, 2, 6]
