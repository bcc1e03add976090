def sum_file(path):
    with open(path) as fh:
        return int(fh.read().split()[0])
