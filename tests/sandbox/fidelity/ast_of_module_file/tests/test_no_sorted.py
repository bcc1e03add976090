"""ast.parse of the file named by solution.__file__: a static rule in a test."""

import ast
from pathlib import Path

import solution


def called_names():
    tree = ast.parse(Path(solution.__file__).read_text())
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def test_does_not_call_sorted():
    assert "sorted" not in called_names()


def test_sorts():
    assert solution.my_sort([3, 1, 2]) == [1, 2, 3]


def test_file_name():
    assert Path(solution.__file__).name == "solution.py"
