class InsufficientFunds(Exception):
    def __init__(self, shortfall):
        super().__init__("not enough money")
        self.shortfall = shortfall


def withdraw(balance, amount):
    if amount > balance:
        raise InsufficientFunds(balance - amount)
    return balance - amount


class OutOfStock(Exception):
    def __init__(self, item, left):
        super().__init__(item)
        self.item, self.left = item, left

    def __str__(self):
        return f"only {self.left} left"


def take(item, stock, wanted):
    if wanted > stock:
        raise OutOfStock(item, stock)
    return stock - wanted
