def total(xs):
    return sum(xs)


def reverse(xs):
    out = []
    for x in xs:
        out.insert(0, x)
    return out
