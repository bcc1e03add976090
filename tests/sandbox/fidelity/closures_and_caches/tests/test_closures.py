"""Closures, a fluent builder, lru_cache's cache_info, yield from and big integers."""

import solution


def test_counter_closure_keeps_its_count():
    counter = solution.make_counter()
    counter()
    counter()
    assert counter() == 3


def test_fluent_builder_chains():
    assert solution.Builder().add(1).add(2).build() == [1, 2]


def test_fib_is_cached():
    solution.fib.cache_clear()
    assert solution.fib(30) == 832040
    assert solution.fib.cache_info().hits > 0


def test_flatten_with_yield_from():
    assert list(solution.flatten([1, [2, [3, 4]], 5])) == [1, 2, 3, 4, 5]


def test_factorial_of_thirty():
    assert solution.factorial(30) == 265252859812191058636308480000000
