import pprint
import sys
import time


def sum_lines():
    total = 0
    while True:
        try:
            line = input()
        except EOFError:
            break
        total += int(line)
    print(f"total: {total}")


def show(items):
    print(*items, sep=", ", end=".\n")
    pprint.pprint(items)
    sys.stdout.write("done")
    sys.stdout.flush()


def elapsed():
    start = time.time()
    return time.time() - start
