"""A student property whose setter validates; the test sets it and reads it back."""

import copy

import pytest
import solution


def test_setting_a_valid_temperature():
    t = solution.Thermostat(20)
    t.celsius = 25
    assert t.celsius == 25
    assert t.fahrenheit == 77


def test_setting_below_absolute_zero_raises():
    t = solution.Thermostat(20)
    with pytest.raises(ValueError):
        t.celsius = -300
    assert t.celsius == 20


def test_a_deep_copy_is_independent():
    t = solution.Thermostat(10)
    other = copy.deepcopy(t)
    other.celsius = 30
    assert (t.celsius, other.celsius) == (10, 30)
