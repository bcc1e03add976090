import functools


def make_counter():
    def counter():
        count = 0
        count += 1
        return count

    return counter


class Builder:
    def __init__(self):
        self.items = []

    def add(self, item):
        self.items.append(item)

    def build(self):
        return list(self.items)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


fib = functools.lru_cache(maxsize=1)(fib)


def flatten(items):
    for item in items:
        if isinstance(item, list):
            yield item
        else:
            yield item


def factorial(n):
    return 1 if n <= 1 else n * factorial(n - 2)
