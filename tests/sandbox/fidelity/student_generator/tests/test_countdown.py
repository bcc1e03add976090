"""A student generator: values, laziness, inspect.isgenerator and types.GeneratorType."""

import inspect
import types

import solution


def test_values():
    assert list(solution.countdown(3)) == [3, 2, 1]


def test_is_lazy():
    gen = solution.countdown(10**6)
    assert next(gen) == 10**6
    assert next(gen) == 10**6 - 1


def test_is_a_generator():
    assert inspect.isgenerator(solution.countdown(1))
    assert isinstance(solution.countdown(1), types.GeneratorType)


def test_is_a_generator_function():
    assert inspect.isgeneratorfunction(solution.countdown)
