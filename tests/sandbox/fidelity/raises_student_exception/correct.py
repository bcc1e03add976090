class EmptyStackError(LookupError):
    pass


class Stack:
    def __init__(self):
        self.items = []

    def pop(self):
        if not self.items:
            raise EmptyStackError("pop from empty stack")
        return self.items.pop()
