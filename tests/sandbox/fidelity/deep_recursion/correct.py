def sum_to(n):
    return 0 if n == 0 else n + sum_to(n - 1)


def depth(value):
    if not isinstance(value, list):
        return 0
    return 1 + max((depth(v) for v in value), default=0)
