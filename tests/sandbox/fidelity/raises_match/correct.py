def isqrt(n):
    if not isinstance(n, int):
        raise TypeError("n must be an int")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    r = 0
    while (r + 1) * (r + 1) <= n:
        r += 1
    return r
