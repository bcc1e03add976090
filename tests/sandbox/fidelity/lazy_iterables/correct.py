def evens(n):
    return range(0, n, 2)


def doubled(items):
    return map(lambda x: 2 * x, items)


def running_average():
    total, count, average = 0, 0, None
    while True:
        value = yield average
        total += value
        count += 1
        average = total / count
