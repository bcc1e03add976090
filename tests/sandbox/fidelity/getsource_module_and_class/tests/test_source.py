"""inspect.getsource of the module, of a class and of a method; inspect.getsourcelines."""

import inspect

import pytest
import solution


def test_module_does_not_import_math():
    assert "import math" not in inspect.getsource(solution)


def test_sqrt():
    assert solution.sqrt(9) == pytest.approx(3)


def test_class_source_has_both_methods():
    source = inspect.getsource(solution.Counter)
    assert source.startswith("class Counter")
    assert "def up" in source and "def down" in source


def test_method_source_and_line():
    lines, start = inspect.getsourcelines(solution.Counter.up)
    assert lines[0].strip() == "def up(self):"
    assert start > 1
