from collections import deque


class Queue:
    def __init__(self, capacity):
        self.capacity = capacity
        self.items = deque()

    def put(self, item):
        if self.full():
            return False
        self.items.append(item)
        return True

    def get(self):
        return self.items.popleft()

    def full(self):
        return len(self.items) >= self.capacity
