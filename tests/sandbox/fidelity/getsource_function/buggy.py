def total(values):
    result = 0
    for value in values:
        result += value
    return result


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
