"""Parametrize from the student module's own data: the number of tests would depend on it."""

import pytest
import solution


@pytest.mark.parametrize("n", solution.EXAMPLES)
def test_examples_are_even(n):
    assert n % 2 == 0
