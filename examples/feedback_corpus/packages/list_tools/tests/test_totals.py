import pytest
from list_tools import running_totals


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [([1, 2, 3], [1, 3, 6]), ([5], [5]), ([], []), ([2, -2, 4], [2, 0, 4])],
)
def test_running_totals(numbers, expected):
    assert running_totals(numbers) == expected


def test_last_total_is_the_sum():
    numbers = [4, 8, 15, 16, 23, 42]
    assert running_totals(numbers)[-1] == 108
