def report(account):
    return f"balance: {account.balance + 1} ({account.describe()})"


def empty(account):
    return 0
