"""A student context manager, and a student decorator wrapping the test's own function."""

import pytest
import solution


def test_the_context_manager_records_entry_and_exit():
    log = solution.Log()
    with log:
        log.write("inside")
    assert log.lines == ["enter", "inside", "exit"]


def test_the_context_manager_sees_the_exception_and_lets_it_through():
    log = solution.Log()
    with pytest.raises(KeyError):
        with log:
            raise KeyError("k")
    assert log.lines[-1] == "exit after KeyError"


def test_memoize_calls_the_function_once_per_argument():
    calls = []

    @solution.memoize
    def slow_square(x):
        calls.append(x)
        return x * x

    assert [slow_square(3), slow_square(3), slow_square(4)] == [9, 9, 16]
    assert calls == [3, 4]
