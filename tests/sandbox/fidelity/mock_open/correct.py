def sum_file(path):
    with open(path) as fh:
        return sum(int(line) for line in fh.read().split())


def save_total(path, values):
    with open(path, "w") as fh:
        fh.write(f"{sum(values)}\n")
