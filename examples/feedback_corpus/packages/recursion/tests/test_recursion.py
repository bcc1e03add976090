import pytest
from recursion import power, reverse, sum_digits


@pytest.mark.parametrize(
    ("base", "exp", "expected"),
    [(2, 3, 8), (5, 1, 5), (3, 4, 81), (7, 0, 1)],
)
def test_power(base, exp, expected):
    assert power(base, exp) == expected


@pytest.mark.parametrize(("n", "expected"), [(123, 6), (7, 7), (4096, 19)])
def test_sum_digits(n, expected):
    assert sum_digits(n) == expected


@pytest.mark.parametrize(("text", "expected"), [("abc", "cba"), ("a", "a"), ("", "")])
def test_reverse(text, expected):
    assert reverse(text) == expected
