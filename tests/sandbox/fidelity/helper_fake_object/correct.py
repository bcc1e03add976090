def report(account):
    return f"balance: {account.balance} ({account.describe()})"


def empty(account):
    account.balance = 0
