import sys
import time


def sum_lines():
    total = 0
    line = input()
    total += int(line)
    print(f"total: {total}")


def show(items):
    print(*items, sep=",", end=".\n")
    print(items)
    sys.stdout.write("done\n")


def elapsed():
    return time.time() - time.time()
