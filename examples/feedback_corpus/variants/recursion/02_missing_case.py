def power(base, exp):
    if exp == 1:
        return base
    return base * power(base, exp - 1)


def sum_digits(n):
    if n < 10:
        return n
    return n % 10 + sum_digits(n // 10)


def reverse(text):
    if text == "":
        return ""
    return reverse(text[1:]) + text[0]
