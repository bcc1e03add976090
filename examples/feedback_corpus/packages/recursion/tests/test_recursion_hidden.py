import pytest
from recursion import power, reverse, sum_digits


def test_power_of_one_and_zero():
    assert power(1, 50) == 1
    assert power(0, 3) == 0
    assert power(0, 0) == 1


@pytest.mark.parametrize(("n", "expected"), [(0, 0), (10, 1), (99999, 45)])
def test_sum_digits_edges(n, expected):
    result = sum_digits(n)
    assert result == expected and isinstance(result, int)


def test_reverse_sentence():
    assert reverse("stressed desserts") == "stressed desserts"[::-1]
    assert reverse("drawer") == "reward"
