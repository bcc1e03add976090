"""inspect.getsource(solution.fib): the function's own source, checked for loops."""

import inspect

import solution


def test_fib_values():
    assert [solution.fib(n) for n in range(7)] == [0, 1, 1, 2, 3, 5, 8]


def test_fib_has_no_loop():
    source = inspect.getsource(solution.fib)
    assert "for " not in source and "while " not in source


def test_source_starts_at_the_def():
    assert inspect.getsource(solution.fib).startswith("def fib(")
