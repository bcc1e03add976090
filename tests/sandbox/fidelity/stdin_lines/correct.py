import sys


def count_lines():
    return sum(1 for line in sys.stdin if line.strip())


def upper_lines():
    return [line.strip().upper() for line in sys.stdin.readlines()]
