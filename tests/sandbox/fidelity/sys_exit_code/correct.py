import sys


def main(args):
    if not args:
        print("need a number", file=sys.stderr)
        sys.exit(1)
    print(int(args[0]) ** 2)
