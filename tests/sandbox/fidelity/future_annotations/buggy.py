from __future__ import annotations


class Node:
    def __init__(self, value):
        self.value = value


def push(stack: list, item: float) -> None:
    stack.append(item)


def link(value: int) -> object:
    return Node(value)
