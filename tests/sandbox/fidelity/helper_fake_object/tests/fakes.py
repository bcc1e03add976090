class FakeAccount:
    def __init__(self, balance):
        self.balance = balance

    def describe(self):
        return f"fake with {self.balance}"
