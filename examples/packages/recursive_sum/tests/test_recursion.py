import pytest
from solution import reverse, total


@pytest.mark.parametrize(("xs", "expected"), [([], 0), ([5], 5), ([1, 2, 3], 6), ([-4, 4, 10], 10)])
def test_total(xs, expected):
    assert total(xs) == expected


@pytest.mark.parametrize(("xs", "expected"), [([], []), ([1], [1]), ([1, 2, 3], [3, 2, 1])])
def test_reverse(xs, expected):
    assert reverse(xs) == expected


def test_reverse_leaves_its_argument_alone():
    xs = [1, 2, 3]
    reverse(xs)
    assert xs == [1, 2, 3]
