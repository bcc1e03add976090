"""Tests no wrong or empty solution passes: only exact comparisons made by the test."""

import pytest
import solution
from shapes import Box
from solution import add


def test_add_small():
    assert add(2, 3) == 5


def test_add_negative():
    assert add(-2, -3) == -5


def test_add_is_an_int():
    result = add(4, 4)
    assert isinstance(result, int)
    assert result == 8


def test_add_strings():
    assert add("a", "b") == "ab"


def test_add_lists():
    assert add([1], [2]) == [1, 2]


def test_add_rejects_none():
    with pytest.raises(TypeError):
        add(None, 1)


def test_box():
    assert Box(3).same_as(solution.make_box(3))
    assert solution.make_box(3).same_as(Box(3))
