import sys

VERSION = "1.0"


def double(x):
    return 2 * x


if __name__ == "__main__":
    print(len(sys.argv) - 1)
