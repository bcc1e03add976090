class Inventory:
    def __init__(self):
        self.items = {}

    def add(self, name, n):
        self.items[name] = self.items.get(name, 0) + n

    def remove(self, name, n):
        self.items[name] = max(0, self.items.get(name, 0) - n)

    def count(self, name):
        return self.items.get(name, 0)
