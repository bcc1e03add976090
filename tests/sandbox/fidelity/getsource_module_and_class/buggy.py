import math


def sqrt(x):
    return math.sqrt(x)


class Counter:
    def __init__(self):
        self.value = 0

    def up(self):
        self.value += 1

    def down(self):
        self.value -= 1
