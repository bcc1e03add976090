import sys


def total():
    return sum(int(x) for x in sys.stdin.readline().split())
