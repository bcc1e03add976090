from __future__ import annotations


class Node:
    def __init__(self, value):
        self.value = value


def push(stack: list[int], item: int) -> int | None:
    stack.append(item)
    return None


def link(value: int) -> Node:
    return Node(value)
