class Log:
    def __init__(self):
        self.lines = []

    def write(self, line):
        self.lines.append(line)

    def __enter__(self):
        self.lines.append("enter")
        return self

    def __exit__(self, kind, value, tb):
        self.lines.append("exit" if kind is None else f"exit after {kind.__name__}")
        return False


def memoize(function):
    cache = {}

    def wrapper(x):
        if x not in cache:
            cache[x] = function(x)
        return cache[x]

    return wrapper
