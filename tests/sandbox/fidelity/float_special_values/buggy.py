def mean(values):
    return sum(values) / len(values) if values else 0.0


def ratio(a, b):
    return a / b if b else 0


def total_price(prices):
    return float(sum(prices))


def harmonic(n):
    return sum(1 / k for k in range(1, n + 1))
