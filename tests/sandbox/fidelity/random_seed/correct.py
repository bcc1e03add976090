import random


def rolls(n):
    return [random.randint(1, 6) for _ in range(n)]


def shuffled(items):
    items = list(items)
    random.shuffle(items)
    return items
