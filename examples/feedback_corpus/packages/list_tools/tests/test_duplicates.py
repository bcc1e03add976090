import pytest
from list_tools import remove_duplicates


@pytest.mark.parametrize(
    ("items", "expected"),
    [([1, 2, 1, 3, 2], [1, 2, 3]), (["a", "a"], ["a"]), ([], []), ([4, 5], [4, 5])],
)
def test_remove_duplicates(items, expected):
    assert remove_duplicates(items) == expected


def test_called_twice_gives_independent_results():
    assert remove_duplicates([7, 7, 8]) == [7, 8]
    assert remove_duplicates([9]) == [9]


def test_the_argument_is_not_changed():
    items = [3, 3, 1]
    remove_duplicates(items)
    assert items == [3, 3, 1]
