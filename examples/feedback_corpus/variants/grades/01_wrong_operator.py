def average(scores):
    if len(scores) == 0:
        return 0.0
    total = 0
    for s in scores:
        total += s
    return total // len(scores)


def letter(score):
    if score >= 90:
        return "A"
    elif score >= 80:
        return "B"
    elif score >= 70:
        return "C"
    elif score >= 60:
        return "D"
    else:
        return "F"
