"""inspect.signature of a student function: parameter names and defaults."""

import inspect

import solution


def test_parameter_names():
    assert list(inspect.signature(solution.area).parameters) == ["width", "height"]


def test_height_defaults_to_one():
    assert inspect.signature(solution.area).parameters["height"].default == 1


def test_area():
    assert solution.area(4) == 4
