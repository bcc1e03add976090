count = 0
HISTORY = []


def tick():
    count = 1
    return count


def record(value):
    HISTORY.insert(0, value)
