def square(x):
    return x * 2


def is_even(n):
    return n % 2 == 1


def age(person):
    return person[0]


def combine(a, b):
    return a * b
