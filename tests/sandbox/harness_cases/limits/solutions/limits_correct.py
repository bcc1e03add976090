import os
import time


def double(x):
    return 2 * x


def spin():
    while True:
        pass


def nap():
    time.sleep(60)


def hog():
    blocks = []
    while True:
        blocks.append(bytearray(16 * 1024 * 1024))


def crash():
    os.abort()
