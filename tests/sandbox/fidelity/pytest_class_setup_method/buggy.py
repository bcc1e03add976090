class Queue:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = []

    def put(self, item):
        self.items.append(item)
        return True

    def get(self):
        return self.items.pop()

    def full(self):
        return len(self.items) >= self.capacity
