from decimal import Decimal
from fractions import Fraction


def mean(values):
    return sum(values) / len(values) if values else float("nan")


def ratio(a, b):
    return a / b if b else float("inf")


def total_price(prices):
    return sum(prices, Decimal("0"))


def harmonic(n):
    return sum(Fraction(1, k) for k in range(1, n + 1))
