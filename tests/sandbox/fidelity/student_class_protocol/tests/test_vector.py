"""A student class with operators, repr, iteration and abs, used through its instances."""

import solution

Vector = solution.Vector


def test_add():
    assert Vector(1, 2) + Vector(3, 4) == Vector(4, 6)


def test_repr():
    assert repr(Vector(1, 2)) == "Vector(1, 2)"


def test_iterates_over_its_coordinates():
    assert list(Vector(1, 2)) == [1, 2]


def test_sorted_by_length():
    vectors = sorted([Vector(3, 4), Vector(1, 0)], key=abs)
    assert [tuple(v) for v in vectors] == [(1, 0), (3, 4)]


def test_isinstance_of_the_class():
    assert isinstance(Vector(0, 0) + Vector(1, 1), Vector)
