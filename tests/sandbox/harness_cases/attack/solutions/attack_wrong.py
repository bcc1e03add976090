def add(a, b):
    return 0


def make_box(size):
    return None
