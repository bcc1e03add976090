"""issubclass and isinstance between the student's classes; an abstract method."""

import pytest
import solution


def test_square_is_a_shape():
    assert issubclass(solution.Square, solution.Shape)


def test_square_instance_is_a_shape():
    assert isinstance(solution.Square(2), solution.Shape)


def test_area():
    assert solution.Square(3).area() == 9


def test_shape_itself_has_no_area():
    with pytest.raises(NotImplementedError):
        solution.Shape().area()
