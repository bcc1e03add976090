TAX_RATE = 0.2


def with_tax(price, rate=TAX_RATE):
    return price * (1 + rate)
