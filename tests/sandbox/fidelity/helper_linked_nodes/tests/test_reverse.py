"""A linked list of helper-class nodes reversed by the student; identity of the nodes kept."""

import solution
from nodes import build, values


def test_reverse_values():
    assert values(solution.reverse(build(1, 2, 3))) == [3, 2, 1]


def test_reverse_reuses_the_nodes():
    head = build(1, 2)
    second = head.next
    assert solution.reverse(head) is second


def test_reverse_empty():
    assert solution.reverse(None) is None
