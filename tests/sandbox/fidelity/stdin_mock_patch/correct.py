import sys


def reversed_lines():
    return [line.rstrip("\n")[::-1] for line in sys.stdin]
