"""Floats the student returns: nan, inf, -0.0, isclose, Decimal and Fraction."""

import math
from decimal import Decimal
from fractions import Fraction

import solution


def test_mean_of_nothing_is_nan():
    assert math.isnan(solution.mean([]))


def test_ratio_by_zero_is_infinite():
    assert solution.ratio(1, 0) == math.inf


def test_money_is_exact():
    assert solution.total_price([Decimal("0.10"), Decimal("0.20")]) == Decimal("0.30")


def test_harmonic_is_a_fraction():
    assert solution.harmonic(3) == Fraction(11, 6)


def test_mean_is_close():
    assert math.isclose(solution.mean([0.1, 0.2]), 0.15)
