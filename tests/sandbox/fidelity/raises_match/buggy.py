def isqrt(n):
    if n < 0:
        raise ValueError("negative")
    r = 0
    while (r + 1) * (r + 1) <= n:
        r += 1
    return r
