PRICES = {"a": 1, "b": 2}


def price_of(item):
    return PRICES[item]


def total(items):
    return sum(price_of(item) for item in items)
