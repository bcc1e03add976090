class Stack:
    pass


def make():
    return Stack()
