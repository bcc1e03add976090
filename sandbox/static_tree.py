"""What a static rule sees: the parsed submission file, and helpers over its syntax tree.

Everything here reads an ``ast`` tree; nothing imports, compiles or runs the student's code,
and every walk is iterative (``ast.walk``), so a deeply nested file cannot exhaust the stack.
The rules themselves: ``sandbox.static_rules``; parsing and running one: ``sandbox.static_checks``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One thing a rule found. ``line`` is 0 when it is about something missing."""

    line: int
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.text}" if self.line else self.text


@dataclass(frozen=True)
class Source:
    """A parsed submission file. ``own_modules``: the student's other Python files, by module."""

    tree: ast.Module
    text: str
    filename: str
    own_modules: frozenset[str] = frozenset()


FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def functions(tree: ast.Module, dotted: str) -> list[FunctionNode]:
    """Every top-level ``def f`` (or ``def m`` in top-level ``class C`` for "C.m")."""
    body: list[ast.stmt] = tree.body
    if "." in dotted:
        cls, dotted = dotted.split(".")
        body = [s for c in tree.body if isinstance(c, ast.ClassDef) and c.name == cls
                for s in c.body]
    return [s for s in body if isinstance(s, FunctionNode) and s.name == dotted]


def scopes(source: Source, options: Mapping[str, Any]) -> tuple[list[ast.AST], str, list[Finding]]:
    """The nodes a rule looks at (the function, or the whole file), how to name them, and a
    finding when the function is missing."""
    name = options.get("function")
    if name is None:
        return [source.tree], "", []
    found = functions(source.tree, name)
    if not found:
        return [], "", [Finding(0, f"{source.filename} does not define {name} (def {name} at "
                                   "the top level" + (" of its class" if "." in name else "") +
                                   ")")]
    return list(found), f" in {name}", []


def walk(roots: list[ast.AST]) -> Iterator[ast.AST]:
    for root in roots:
        yield from ast.walk(root)


def qualified(node: ast.expr, aliases: Mapping[str, str]) -> str | None:
    """``m.sqrt`` after ``import math as m`` → "math.sqrt"; a bare builtin → its name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    dotted = ".".join(reversed(parts))
    for prefix in ("builtins.", "__builtins__."):
        if dotted.startswith(prefix):
            return dotted[len(prefix):]
    return dotted


@dataclass
class Imports:
    aliases: dict[str, str] = field(default_factory=dict)  # local name → qualified name
    star: list[str] = field(default_factory=list)  # modules imported with *


def imports_of(tree: ast.Module) -> Imports:
    found = Imports()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found.aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    found.aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name == "*":
                    found.star.append(node.module)
                else:
                    found.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


def top_level_names(tree: ast.Module) -> set[str]:
    """Names the file binds at the top level: defs, classes, assignments."""
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, FunctionNode | ast.ClassDef):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def class_members(cls: ast.ClassDef) -> set[str]:
    return top_level_names(ast.Module(body=cls.body, type_ignores=[]))


__all__ = ["Finding", "FunctionNode", "Imports", "Source", "class_members", "functions",
           "imports_of", "qualified", "scopes", "top_level_names", "walk"]
