class Inventory:
    def __init__(self):
        self.items = {}

    def add(self, name, n):
        self.items[name] = self.items.get(name, 0) + n

    def remove(self, name, n):
        if self.items.get(name, 0) < n:
            raise ValueError(f"only {self.items.get(name, 0)} {name} left")
        self.items[name] -= n

    def count(self, name):
        return self.items.get(name, 0)
