"""Helper module of the tests: importable by the tests and by the student code."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Color(enum.Enum):
    WHITE = "white"
    BLACK = "black"


class Node:
    def __init__(self, value, neighbors=None):
        self.value = value
        self.neighbors = list(neighbors or [])
        self.color = Color.WHITE

    def equals(self, other):
        return isinstance(other, Node) and self.value == other.value

    def __repr__(self):
        return f"Node({self.value!r})"


@dataclass
class Point:
    x: int
    y: int
    tags: list[str] = field(default_factory=list)
