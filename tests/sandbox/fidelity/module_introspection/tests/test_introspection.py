"""A test looks at the student's module as an object: its functions, annotations, defaults."""

import importlib
import inspect
import sys
import typing

import solution


def test_import_module_and_sys_modules():
    module = importlib.import_module("solution")
    assert module.add(1, 2) == 3
    assert sys.modules["solution"].add(2, 2) == 4
    assert __import__("solution").add(0, 1) == 1


def test_the_module_names_its_file():
    assert solution.__name__ == "solution"
    assert solution.__file__.endswith("solution.py")


def test_functions_defined_in_the_module():
    names = [name for name, _ in inspect.getmembers(solution, inspect.isfunction)]
    assert "add" in names and "greet" in names


def test_type_hints_are_given():
    assert solution.add.__annotations__ == {"a": int, "b": int, "return": int}
    assert typing.get_type_hints(solution.add)["return"] is int


def test_default_argument_and_callable():
    assert callable(solution.greet)
    assert solution.greet.__defaults__ == ("world",)
    assert solution.greet() == "hello world"


def test_generic_and_optional_hints():
    hints = solution.first.__annotations__
    assert hints == {"items": list[int], "default": int | None, "return": tuple[int, ...]}
