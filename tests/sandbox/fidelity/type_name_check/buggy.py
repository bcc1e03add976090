class Stack:
    pass


class LimitedStack:  # not a Stack
    pass


class Deque:
    pass


Queue = Deque  # the right class by isinstance, the wrong one by name


class Outer:
    class Inner:
        pass


class Countdown:
    pass


def make():
    return []


def make_limited():
    return LimitedStack()


def make_queue():
    return Queue()


def make_inner():
    return {"kind": "Inner"}


def countdown(start):
    return (n for n in range(start, 0, -1))
