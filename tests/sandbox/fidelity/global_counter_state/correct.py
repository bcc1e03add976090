count = 0
HISTORY = []


def tick():
    global count
    count += 1


def record(value):
    HISTORY.append(value)
