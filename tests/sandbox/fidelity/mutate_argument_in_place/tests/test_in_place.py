"""The student changes the list or dict the test passes in; the test looks at its own object."""

import solution


def test_sorts_the_list_in_place():
    numbers = [3, 1, 2]
    assert solution.sort_in_place(numbers) is None
    assert numbers == [1, 2, 3]


def test_adds_to_the_inventory():
    inventory = {"apple": 1}
    solution.add_item(inventory, "apple", 2)
    solution.add_item(inventory, "pear", 1)
    assert inventory == {"apple": 3, "pear": 1}


def test_appends_to_a_nested_list():
    grid = [[1], [2]]
    solution.append_to_rows(grid, 0)
    assert grid == [[1, 0], [2, 0]]
