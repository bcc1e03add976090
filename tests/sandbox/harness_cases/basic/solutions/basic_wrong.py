GREETING = "hi"


def add(a, b):
    if a < 0:
        return b - a  # wrong for negative a
    return a + b + (1 if a > 10**6 else 0)


def divide(a, b):
    if b == 0:
        return None
    return a / b
