from collections import Counter, OrderedDict, defaultdict, namedtuple

Point = namedtuple("Point", "x y")


def letter_counts(text):
    return Counter(text[1:])


def group_by_length(words):
    groups = defaultdict(list)
    for word in words:
        groups[len(word)] = [word]
    return groups


def first_seen(text):
    return OrderedDict((c, True) for c in sorted(text, reverse=True))


def midpoint(a, b):
    return Point((a[1] + b[1]) // 2, (a[0] + b[0]) // 2)
