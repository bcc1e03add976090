LIMIT = 100


def ask_number():
    return int(input("Number: "))


def print_square(n):
    print(n * n)
