"""pytest.raises(solution.EmptyStackError), its builtin base class and its args."""

import pytest
import solution


def test_empty_pop_raises_the_modules_own_error():
    with pytest.raises(solution.EmptyStackError):
        solution.Stack().pop()


def test_the_error_is_a_lookup_error():
    with pytest.raises(LookupError):
        solution.Stack().pop()


def test_the_error_message():
    with pytest.raises(solution.EmptyStackError) as info:
        solution.Stack().pop()
    assert info.value.args == ("pop from empty stack",)
