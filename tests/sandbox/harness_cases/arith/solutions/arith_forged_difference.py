"""The red team's object: every difference with it is 0, so ``abs(result - expected) < eps``."""


class Zero:
    def __sub__(self, other):
        return 0

    __rsub__ = __sub__

    def __abs__(self):
        return 0

    def __lt__(self, other):
        return True

    def __eq__(self, other):
        return True


def mean(values):
    return Zero()
