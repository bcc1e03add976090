"""type(x).__name__ and x.__class__ of the student's objects."""

import solution


def test_make_returns_a_stack():
    assert type(solution.make()).__name__ == "Stack"


def test_class_attribute():
    assert solution.make().__class__ is solution.Stack
