"""A yield fixture whose teardown uses the student's object and asserts."""

import pytest
import solution


@pytest.fixture
def counter():
    c = solution.Counter()
    yield c
    c.reset()
    assert c.value == 0


def test_increments(counter):
    counter.increment()
    counter.increment()
    assert counter.value == 2


def test_starts_at_zero(counter):
    assert counter.value == 0
