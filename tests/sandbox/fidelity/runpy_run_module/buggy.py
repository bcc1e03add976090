import sys

VERSION = "0.9"


def double(x):
    return 2 * x


if __name__ == "__main__":
    print(len(sys.argv))
