"""Trusted side: type hints written as text, resolved without running the text.

``typing.get_type_hints`` (and ``inspect.get_annotations(eval_str=True)``) turn annotations
written as strings (``def f(x: "int")``, every annotation under ``from __future__ import
annotations``) into types with ``eval``. A student's annotations are the student's text: eval'd
in the test's process they would be the student's code run there. ``install`` replaces
``typing.ForwardRef._evaluate`` (what every such evaluation goes through, however the test
imported ``get_type_hints``) with :func:`resolve`, which parses the text and only looks names up:
builtins, ``typing``, ``collections.abc``, and the student's module's names (asked of its
process, as any attribute). Anything else in the text (a call, an operator other than ``|``) is
a ``TypeError`` for the test, as an annotation plain Python could not evaluate would be. And
a student object's ``__annotations__`` reach the test with their strings resolved the same way
(:func:`safe_annotations`), since ``inspect.get_annotations(eval_str=True)`` calls ``eval``
itself.
"""

from __future__ import annotations

import ast
import builtins
import collections.abc
import typing
from collections.abc import Callable
from typing import Any

MAX_TEXT = 1000  # characters of one annotation
MAX_DEPTH = 20  # nesting of subscripts and quoted annotations inside annotations
_MODULES: dict[str, Any] = {"typing": typing, "t": typing, "collections": collections,
                            "abc": collections.abc}


def resolve(text: str, student_name: Callable[[str], Any], depth: int = 0) -> Any:
    """The type ``text`` names (``"list[int] | None"``, ``"Optional[Node]"``)."""
    if len(text) > MAX_TEXT or depth > MAX_DEPTH:
        raise TypeError("the annotation is too long or too deeply nested to evaluate")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError) as exc:
        raise SyntaxError(f"the annotation {text!r} is not an expression: {exc}") from None
    return _value(tree.body, student_name, depth)


def _value(node: ast.expr, student_name: Callable[[str], Any], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise TypeError("the annotation is too deeply nested to evaluate")
    again = lambda n: _value(n, student_name, depth + 1)  # noqa: E731
    if isinstance(node, ast.Constant):
        if node.value is None or node.value is Ellipsis:
            return node.value
        if isinstance(node.value, str):
            return resolve(node.value, student_name, depth + 1)
    elif isinstance(node, ast.Name):
        found = getattr(builtins, node.id, None)
        if isinstance(found, type):
            return found
        if node.id in typing.__all__:
            return getattr(typing, node.id)
        return student_name(node.id)
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id in _MODULES and not node.attr.startswith("_"):
        return getattr(_MODULES[node.value.id], node.attr)
    elif isinstance(node, ast.Subscript):
        index = node.slice
        key = tuple(again(e) for e in index.elts) if isinstance(index, ast.Tuple) \
            else again(index)
        return again(node.value)[key]
    elif isinstance(node, ast.Tuple | ast.List):
        items = [again(e) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return again(node.left) | again(node.right)
    raise TypeError(f"the grader does not evaluate {ast.unparse(node)!r} in an annotation")


def safe_annotations(found: object, student_name: Callable[[str], Any]) -> object:
    """A student object's ``__annotations__`` as the test gets it: no string left in it, since
    ``inspect.get_annotations(eval_str=True)`` would ``eval`` one here. Each is resolved
    (``"int"`` is ``int``, as ``typing.get_type_hints`` gives it), or kept as a
    ``typing.ForwardRef``, whose evaluation goes through :func:`resolve` too."""
    if not isinstance(found, dict):
        return found
    safe: dict[object, object] = {}
    for key, value in found.items():
        if isinstance(value, str):
            try:
                value = resolve(value, student_name)
            except Exception:
                value = typing.ForwardRef(value[:MAX_TEXT] if len(value) <= MAX_TEXT
                                          else "<an annotation too long to keep>")
        safe[key] = value
    return safe


def install(student_name: Callable[[str], Any]) -> None:
    """Every string annotation this process evaluates from now on goes through :func:`resolve`."""

    def evaluate(ref: typing.ForwardRef, globalns: Any, localns: Any,
                 recursive_guard: Any = frozenset()) -> Any:
        return resolve(ref.__forward_arg__, student_name)

    typing.ForwardRef._evaluate = evaluate  # type: ignore[method-assign, assignment]


__all__ = ["install", "resolve", "safe_annotations"]
