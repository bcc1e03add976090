"""Helper module: a class whose method a forged reply might try to shadow."""


class Box:
    def __init__(self, size):
        self.size = size

    def same_as(self, other):
        return isinstance(other, Box) and self.size == other.size
