import random


def rolls(n):
    random.random()
    return [random.randint(1, 6) for _ in range(n)]


def shuffled(items):
    items = list(items)
    random.shuffle(items)
    return items
