def sqrt(x):
    guess = x / 2 or 1.0
    for _ in range(50):
        guess = (guess + x / guess) / 2
    return guess


class Counter:
    def __init__(self):
        self.value = 0

    def up(self):
        self.value += 1

    def down(self):
        self.value -= 1
