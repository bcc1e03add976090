import pytest
from helpers import BIG
from solution import add


def test_small_numbers():
    assert add(2, 3) == 5


def test_zero():
    assert add(0, 0) == 0


@pytest.mark.parametrize(("a", "b", "expected"), [(-1, 1, 0), (-5, -6, -11)])
def test_negative(a, b, expected):
    assert add(a, b) == expected


def test_big_numbers():
    assert add(BIG, BIG) == 2 * BIG
