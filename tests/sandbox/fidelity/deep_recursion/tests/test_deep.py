"""A recursive student function called deep enough that Python's default limit matters."""

import solution


def test_sum_to_five_hundred():
    assert solution.sum_to(500) == 125250


def test_depth_of_a_nested_list():
    nested = []
    for _ in range(300):
        nested = [nested]
    assert solution.depth(nested) == 301
