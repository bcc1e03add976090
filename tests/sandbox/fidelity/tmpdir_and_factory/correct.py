def distinct(path):
    with open(path) as fh:
        return sorted(set(fh.read().split()))


def append_line(path, line):
    with open(path, "a") as fh:
        fh.write(line + "\n")
