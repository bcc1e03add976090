class InsufficientFunds(ValueError):
    def __init__(self, shortfall):
        super().__init__(f"short by {shortfall}")
        self.shortfall = shortfall


def withdraw(balance, amount):
    if amount > balance:
        raise InsufficientFunds(amount - balance)
    return balance - amount


class OutOfStock(Exception):
    def __init__(self, item, left):
        super().__init__(item)
        self.item, self.left = item, left

    def __str__(self):
        return f"only {self.left} left of {self.item}"


def take(item, stock, wanted):
    if wanted > stock:
        raise OutOfStock(item, stock)
    return stock - wanted
