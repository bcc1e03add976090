import sys


def main(args):
    if not args:
        print("need a number")
        sys.exit(0)
    print(int(args[0]) ** 2)
