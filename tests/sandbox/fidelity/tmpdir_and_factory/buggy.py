def distinct(path):
    with open(path) as fh:
        return sorted(fh.read().split())


def append_line(path, line):
    with open(path, "w") as fh:
        fh.write(line + "\n")
