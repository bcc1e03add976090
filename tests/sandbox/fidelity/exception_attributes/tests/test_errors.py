"""The student's own exception class, its attributes and message, checked by the test."""

import pytest
import solution


def test_withdrawing_too_much_raises_with_the_shortfall():
    with pytest.raises(solution.InsufficientFunds) as info:
        solution.withdraw(10, 25)
    assert info.value.shortfall == 15
    assert "15" in str(info.value)


def test_the_error_is_a_value_error():
    assert issubclass(solution.InsufficientFunds, ValueError)
    with pytest.raises(ValueError):
        solution.withdraw(0, 1)


def test_enough_money_returns_the_rest():
    assert solution.withdraw(30, 10) == 20


def test_the_message_comes_from_the_students_str():
    with pytest.raises(solution.OutOfStock) as info:
        solution.take("pears", 2, 5)
    assert str(info.value) == "only 2 left of pears"
