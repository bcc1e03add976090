import time


def countdown(n):
    seen = []
    for i in range(n, 0, -1):
        seen.append(i)
        time.sleep(0.01)
    return seen
