import random


def roll():
    return random.randint(0, 6)


def roll_two():
    return roll() + roll()
