def sort_in_place(numbers):
    numbers.sort()


def add_item(inventory, name, count):
    inventory[name] = inventory.get(name, 0) + count


def append_to_rows(grid, value):
    for row in grid:
        row.append(value)
