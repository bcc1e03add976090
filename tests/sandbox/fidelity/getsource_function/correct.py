def total(values):
    result = 0
    for value in values:
        result += value
    return result


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)
