LIMIT = 10


def ask_number():
    return input("Number: ")


def print_square(n):
    print(n * 2)
