"""Tests written with tolerances, as teachers write them for floats: no wrong answer, and no
student object standing in for one, may pass them."""

import math

import pytest
import solution
from solution import mean


def test_mean_within_a_tolerance():
    assert abs(mean([1.0, 2.0, 4.0]) - 7 / 3) < 1e-9


def test_mean_within_a_tolerance_expected_first():
    assert abs(10 / 3 - mean([2.0, 3.0, 5.0])) < 1e-9


def test_mean_is_approximately_right():
    assert mean([2.0, 4.0]) == pytest.approx(3.0)


def test_mean_squared_error_is_tiny():
    assert (mean([1.0, 3.0, 8.0]) - 4.0) ** 2 < 1e-12


def test_mean_is_close():
    assert math.isclose(mean([5.0, 6.0]), 5.5)


def test_vectors_add_and_scale_by_the_students_own_rules():
    total = solution.Vector(1, 2) + solution.Vector(3, 4)
    assert (total.x, total.y) == (4, 6)
    assert abs(solution.Vector(3, 4)) == 5.0
