from dataclasses import dataclass


@dataclass
class Point:
    x: float
    y: float

    def distance(self, other):
        return abs(self.x - other.x) + abs(self.y - other.y)
