def evens(n):
    return range(2, n, 2)


def doubled(items):
    return map(lambda x: x + x + 1, items)


def running_average():
    average = None
    while True:
        value = yield average
        average = value
