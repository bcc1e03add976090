from graph import Color, Node, Point


class EmptyStackError(ValueError):
    pass


class Stack:
    def __init__(self):
        self.items = []

    @property
    def size(self):
        return len(self.items)

    def __len__(self):
        return len(self.items)

    def push(self, item):
        self.items.append(item)

    def pop(self):
        if not self.items:
            raise EmptyStackError("pop from an empty stack")
        return self.items.pop()

    def peek_or(self, default):
        return self.items[-1] if self.items else default


class Fraction:
    def __init__(self, num, den):
        from math import gcd

        g = gcd(num, den)
        self.num, self.den = num // g, den // g

    def __eq__(self, other):
        return isinstance(other, Fraction) and (self.num, self.den) == (other.num, other.den)

    def __hash__(self):
        return hash((self.num, self.den))


def nth(items, n):
    return items[n]


def sort_in_place(items):
    items.sort()


def grow(mapping, seen):
    mapping["a"].append(99)
    mapping["new"] = "yes"
    seen.add(99)


def countdown(n):
    while n > 0:
        yield n
        n -= 1


def visit(start):
    order, todo = [], [start]
    while todo:
        node = todo.pop()
        if node.color is Color.BLACK:
            continue
        node.color = Color.BLACK
        order.append(node.value)
        todo.extend(reversed(node.neighbors))
    return order


def clone(node, memo=None):
    memo = {} if memo is None else memo
    if id(node) in memo:
        return memo[id(node)]
    copy = Node(node.value)
    memo[id(node)] = copy
    copy.neighbors = [clone(n, memo) for n in node.neighbors]
    return copy


def make_point(x, y):
    return Point(x, y, ["made"])


def read_data():
    with open("tests/data.txt") as f:
        return sorted(int(x) for x in f.read().split())


def sort_by(items, key):
    return sorted(items, key=key)


def shout(text):
    print(text.upper() + "!")


def echo(value):
    return value
