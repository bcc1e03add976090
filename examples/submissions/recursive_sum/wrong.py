def total(xs):
    if len(xs) <= 1:
        return 0
    return xs[0] + total(xs[1:])


def reverse(xs):
    xs.reverse()
    return xs
