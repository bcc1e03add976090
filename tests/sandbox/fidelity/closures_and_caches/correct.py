import functools


def make_counter():
    count = 0

    def counter():
        nonlocal count
        count += 1
        return count

    return counter


class Builder:
    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)
        return self

    def build(self):
        return list(self.items)


@functools.cache
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def flatten(items):
    for item in items:
        if isinstance(item, list):
            yield from flatten(item)
        else:
            yield item


def factorial(n):
    return 1 if n <= 1 else n * factorial(n - 1)
