class Stack:
    def __init__(self):
        self.items = []


class LimitedStack(Stack):
    pass


class Queue:
    pass


class Outer:
    class Inner:
        pass


class Countdown:
    def __init__(self, start):
        self.left = start

    def __iter__(self):
        return self

    def __next__(self):
        if self.left <= 0:
            raise StopIteration
        self.left -= 1
        return self.left + 1


def make():
    return Stack()


def make_limited():
    return LimitedStack()


def make_queue():
    return Queue()


def make_inner():
    return Outer.Inner()


def countdown(start):
    return Countdown(start)
