"""Lazy results (map, filter, range, zip) and a coroutine-style generator driven with send()."""

import solution


def test_evens_is_a_range_like_sequence():
    assert list(solution.evens(10)) == [0, 2, 4, 6, 8]
    assert 4 in solution.evens(10)
    assert len(solution.evens(10)) == 5


def test_doubled_is_lazy_but_complete():
    assert list(solution.doubled([1, 2, 3])) == [2, 4, 6]
    assert sum(solution.doubled([1, 2])) == 6


def test_running_average_with_send():
    averager = solution.running_average()
    next(averager)
    assert averager.send(10) == 10
    assert averager.send(20) == 15
