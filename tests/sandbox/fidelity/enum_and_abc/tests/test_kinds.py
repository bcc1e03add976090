"""A student Enum and an abstract base class."""

import pytest
import solution


def test_enum_members_and_values():
    assert solution.Color.RED.value == 1
    assert solution.Color["GREEN"] is solution.Color.GREEN
    assert [c.name for c in solution.Color] == ["RED", "GREEN", "BLUE"]


def test_next_color_wraps_around():
    assert solution.next_color(solution.Color.BLUE) is solution.Color.RED


def test_the_abstract_shape_cannot_be_made():
    with pytest.raises(TypeError):
        solution.Shape()


def test_a_square_is_a_shape():
    square = solution.Square(3)
    assert isinstance(square, solution.Shape)
    assert square.area() == 9
