TAX_RATE = 0.2


def with_tax(price):
    return price * (1 + TAX_RATE)
