from shapes import Box


def add(a, b):
    return a + b


def make_box(size):
    return Box(size)
