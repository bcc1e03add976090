import time


def countdown(n):
    seen = []
    for i in range(n, 0, -1):
        seen.append(i)
        time.sleep(1)
    return seen
