def letter(score):
    if score > 100:
        raise ValueError("too high")
    if score >= 90:
        return "A"
    if score >= 80:
        return "B"
    if score > 70:
        return "C"
    return "F"


def passing(scores):
    return [s for s in scores if s > 70]


def average(scores):
    return sum(scores) // len(scores)


def best(scores):
    return max(scores, default=0)
