"""pytest.approx for a float, a list and a dict of floats."""

import pytest
import solution


def test_mean():
    assert solution.mean([1, 2, 4]) == pytest.approx(7 / 3)


def test_normalize():
    assert solution.normalize([1, 3]) == pytest.approx([0.25, 0.75])


def test_stats():
    assert solution.stats([1, 2, 3]) == pytest.approx({"mean": 2.0, "sd": 0.8165}, abs=1e-3)
