def sum_file(path):
    with open(path) as fh:
        return sum(int(line) for line in fh.read().split())
