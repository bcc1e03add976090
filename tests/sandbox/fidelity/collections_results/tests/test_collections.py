"""Counter, defaultdict, OrderedDict and namedtuple results compared with the test's values."""

from collections import Counter, OrderedDict

import solution


def test_letter_counts_equal_a_counter():
    assert solution.letter_counts("banana") == Counter({"a": 3, "n": 2, "b": 1})


def test_letter_counts_are_a_dict():
    counts = solution.letter_counts("aab")
    assert isinstance(counts, dict)
    assert counts == {"a": 2, "b": 1}
    assert counts.most_common(1) == [("a", 2)]


def test_groups_by_length():
    groups = solution.group_by_length(["a", "bb", "cc"])
    assert groups[2] == ["bb", "cc"]
    assert groups[5] == []


def test_ordered_first_seen():
    assert list(solution.first_seen("abcab")) == ["a", "b", "c"]
    assert isinstance(solution.first_seen("x"), OrderedDict)


def test_named_point():
    point = solution.midpoint((0, 0), (2, 4))
    assert point.x == 1 and point.y == 2
    assert point == (1, 2)
