import sys


def safe_div(a, b):
    if b == 0:
        print("error: division by zero", file=sys.stderr)
        return None
    return a / b
