"""A class-scoped fixture: the tests of the class push and pop one student stack in turn."""

import pytest
from solution import Stack


class TestOneStack:
    @pytest.fixture(scope="class")
    def stack(self):
        return Stack()

    def test_push_two(self, stack):
        stack.push(1)
        stack.push(2)
        assert len(stack) == 2

    def test_pop_returns_the_last(self, stack):
        assert stack.pop() == 2
        assert len(stack) == 1


class TestAnotherStack:
    @pytest.fixture(scope="class")
    def stack(self):
        return Stack()

    def test_starts_empty(self, stack):
        assert len(stack) == 0
