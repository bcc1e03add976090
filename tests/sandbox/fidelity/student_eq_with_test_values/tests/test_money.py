"""A student class compared with the test's own values (a tuple, a number, membership)."""

import solution


def test_point_equals_a_tuple():
    assert solution.Point(1, 2) == (1, 2)


def test_money_equals_a_number():
    assert solution.Money(5) == 5


def test_an_interval_contains_a_number():
    assert 5 in solution.Interval(1, 10)
