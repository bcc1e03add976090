class Log:
    def __init__(self):
        self.lines = []

    def write(self, line):
        self.lines.append(line)

    def __enter__(self):
        self.lines.append("enter")
        return self

    def __exit__(self, kind, value, tb):
        self.lines.append("exit")
        return True


def memoize(function):
    def wrapper(x):
        return function(x)

    return wrapper
