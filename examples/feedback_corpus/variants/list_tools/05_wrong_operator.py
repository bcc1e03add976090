def remove_duplicates(items):
    result = []
    for item in items:
        if item not in result:
            result.append(item)
    return result


def running_totals(numbers):
    totals = []
    total = 0
    for n in numbers:
        total = n
        totals.append(total)
    return totals


def index_of_max(numbers):
    best = 0
    i = 1
    while i < len(numbers):
        if numbers[i] > numbers[best]:
            best = i
        i += 1
    return best
