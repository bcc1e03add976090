"""The student's file found next to the tests folder (Path(__file__).parent.parent)."""

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "solution.py"


def test_module_has_a_docstring():
    assert ast.get_docstring(ast.parse(SOURCE.read_text()))


def test_at_most_ten_lines():
    assert len(SOURCE.read_text().splitlines()) <= 10


def test_every_function_has_a_docstring():
    tree = ast.parse(SOURCE.read_text())
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    assert functions and all(ast.get_docstring(f) for f in functions)
