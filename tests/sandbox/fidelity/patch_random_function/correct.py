import random


def roll():
    return random.randint(1, 6)


def roll_two():
    return roll() + roll()
