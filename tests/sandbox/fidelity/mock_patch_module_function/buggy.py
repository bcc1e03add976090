PRICES = {"a": 1, "b": 2}


def price_of(item):
    return PRICES[item]


def total(items):
    return sum(PRICES[item] for item in items)
