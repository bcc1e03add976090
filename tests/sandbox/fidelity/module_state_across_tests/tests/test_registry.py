"""The student's module keeps a registry; a later test expects what an earlier one added."""

import solution


def test_register_one():
    solution.register("ann")
    assert solution.names() == ["ann"]


def test_register_another_keeps_the_first():
    solution.register("bob")
    assert solution.names() == ["ann", "bob"]
