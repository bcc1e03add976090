"""Student functions handed to the test's own map/filter/sorted/max/reduce."""

import functools

import solution

PEOPLE = [("ann", 31), ("bob", 25), ("cy", 40)]


def test_map_with_the_students_function():
    assert list(map(solution.square, [1, 2, 3])) == [1, 4, 9]


def test_filter_with_the_students_predicate():
    assert list(filter(solution.is_even, range(7))) == [0, 2, 4, 6]


def test_sorted_by_the_students_key():
    assert [name for name, _ in sorted(PEOPLE, key=solution.age)] == ["bob", "ann", "cy"]


def test_max_by_the_students_key():
    assert max(PEOPLE, key=solution.age)[0] == "cy"


def test_reduce_with_the_students_combine():
    assert functools.reduce(solution.combine, [1, 2, 3, 4]) == 10
