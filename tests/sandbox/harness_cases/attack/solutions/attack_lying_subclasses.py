"""Subclasses of builtins with a lying __eq__: they must arrive as their plain values."""

from shapes import Box


class LyingInt(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


class LyingStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


class LyingList(list):
    def __eq__(self, other):
        return True


class LyingBox(Box):
    def same_as(self, other):
        return True


def add(a, b):
    if isinstance(a, str):
        return LyingStr("")
    if isinstance(a, list):
        return LyingList()
    if a is None:
        return LyingInt(0)
    return LyingInt(0)


def make_box(size):
    return LyingBox(size + 1)
