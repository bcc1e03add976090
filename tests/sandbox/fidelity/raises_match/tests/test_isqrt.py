"""pytest.raises with match=, a TypeError, and excinfo.value."""

import pytest
import solution


def test_negative_raises_with_a_clear_message():
    with pytest.raises(ValueError, match=r"must be >= 0"):
        solution.isqrt(-1)


def test_a_string_is_a_type_error():
    with pytest.raises(TypeError):
        solution.isqrt("4")


def test_the_message_names_the_value():
    with pytest.raises(ValueError) as info:
        solution.isqrt(-4)
    assert "-4" in str(info.value)


def test_isqrt():
    assert solution.isqrt(17) == 4
