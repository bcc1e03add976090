"""A student dataclass: equality, fields, asdict, frozen-ness and a method."""

import dataclasses

import pytest
import solution


def test_equal_points():
    assert solution.Point(1, 2) == solution.Point(1, 2)


def test_fields():
    assert [f.name for f in dataclasses.fields(solution.Point)] == ["x", "y"]


def test_asdict():
    assert dataclasses.asdict(solution.Point(1, 2)) == {"x": 1, "y": 2}


def test_is_frozen():
    point = solution.Point(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 5


def test_distance():
    assert solution.Point(0, 0).distance(solution.Point(3, 4)) == 5
