class EmptyStackError(Exception):
    pass


class Stack:
    def __init__(self):
        self.items = []

    def pop(self):
        if not self.items:
            raise EmptyStackError("empty")
        return self.items.pop()
