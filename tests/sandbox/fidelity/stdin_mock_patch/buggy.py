import sys


def reversed_lines():
    return [line[::-1] for line in sys.stdin]
