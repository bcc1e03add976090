def add(a, b):
    return a + b


def greet(name="you"):
    return f"hello {name}"


def first(items: list, default=None) -> tuple:
    return tuple(items[:1]) or (default,)
