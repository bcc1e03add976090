def mean(values):
    return sum(values) / len(values)


def normalize(values):
    top = max(values)
    return [v / top for v in values]


def stats(values):
    m = mean(values)
    return {"mean": m, "sd": (sum((v - m) ** 2 for v in values) / (len(values) - 1)) ** 0.5}
