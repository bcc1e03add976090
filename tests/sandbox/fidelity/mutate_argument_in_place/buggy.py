def sort_in_place(numbers):
    numbers = sorted(numbers)


def add_item(inventory, name, count):
    inventory = dict(inventory)
    inventory[name] = inventory.get(name, 0) + count


def append_to_rows(grid, value):
    for row in grid:
        row = row + [value]
