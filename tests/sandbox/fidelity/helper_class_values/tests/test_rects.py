"""Instances of a tests/ helper class made by the test and by the student's code."""

import solution
from shapes import Rect


def test_square_is_a_rect():
    square = solution.square(3)
    assert isinstance(square, Rect)
    assert (square.width, square.height) == (3, 3)


def test_total_area():
    assert solution.total_area([Rect(1, 2), Rect(3, 4)]) == 14


def test_grow_in_place():
    rect = Rect(1, 1)
    solution.grow(rect, 2)
    assert rect.area() == 9
