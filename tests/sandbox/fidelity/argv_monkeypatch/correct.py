import sys


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(2)
    print(sum(int(a) for a in args))
