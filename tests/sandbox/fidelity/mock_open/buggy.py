def sum_file(path):
    with open(path) as fh:
        return int(fh.read().split()[0])


def save_total(path, values):
    with open(path, "w") as fh:
        fh.write(str(sum(values)))
