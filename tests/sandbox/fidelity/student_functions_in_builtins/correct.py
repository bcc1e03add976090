def square(x):
    return x * x


def is_even(n):
    return n % 2 == 0


def age(person):
    return person[1]


def combine(a, b):
    return a + b
