def add(a: int, b: int) -> int:
    return a + b


def greet(name="world"):
    return f"hello {name}"


def first(items: list[int], default: int | None = None) -> tuple[int, ...]:
    return tuple(items[:1]) or (default,)
