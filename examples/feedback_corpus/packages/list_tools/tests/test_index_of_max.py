import pytest
from list_tools import index_of_max


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [([3, 7, 2], 1), ([9, 1, 2], 0), ([1, 2, 8], 2), ([5], 0), ([-4, -1, -9], 1)],
)
def test_index_of_max(numbers, expected):
    assert index_of_max(numbers) == expected


def test_first_of_equal_largest():
    assert index_of_max([2, 6, 6, 1]) == 1
