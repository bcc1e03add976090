"""Return values too big to travel, or expensive for the other side."""


def add(a, b):
    if a == 2:
        return "x" * (20 * 1024 * 1024)
    if a == -2:
        nested = []
        for _ in range(200_000):
            nested = [nested]
        return nested
    if a == 4:
        return 10 ** 100_000
    return [0] * 300_000


def make_box(size):
    return list(range(300_000))
