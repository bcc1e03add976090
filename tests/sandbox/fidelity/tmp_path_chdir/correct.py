import csv


def best(path):
    with open(path, newline="") as fh:
        rows = [(name, int(score)) for name, score in csv.reader(fh)]
    return max(rows, key=lambda r: r[1])[0]


def summarize(values):
    with open("summary.txt", "w") as fh:
        fh.write(f"min={min(values)} max={max(values)} mean={sum(values) / len(values)}\n")
