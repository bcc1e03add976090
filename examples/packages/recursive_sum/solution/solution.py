"""The teacher's reference solution: checked at upload, never shown to students."""


def total(xs):
    if not xs:
        return 0
    return xs[0] + total(xs[1:])


def reverse(xs):
    if not xs:
        return []
    return reverse(xs[1:]) + [xs[0]]
