def mean(values):
    return sum(values) / len(values)


def normalize(values):
    total = sum(values)
    return [v / total for v in values]


def stats(values):
    m = mean(values)
    return {"mean": m, "sd": (sum((v - m) ** 2 for v in values) / len(values)) ** 0.5}
