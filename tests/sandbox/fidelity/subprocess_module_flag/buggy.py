import sys


def factorial(n):
    result = 1
    for i in range(1, n):
        result *= i
    return result


if __name__ == "__main__":
    print(factorial(int(sys.argv[1])))
