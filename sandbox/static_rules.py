"""The static rules: the registry ``RULES`` (rule name → its parameters and its checker) and
every rule's checker, each a walk over the student's syntax tree that returns findings.

Adding a rule is one ``@rule(...)`` function below and a line in the README; package parsing
then accepts it (``sandbox.static_checks.parse_rule``). What a rule can and cannot promise:
``sandbox.static_checks``.
"""

from __future__ import annotations

import ast
import builtins
import io
import tokenize
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.static_tree import (
    Finding,
    FunctionNode,
    Source,
    class_members,
    functions,
    imports_of,
    qualified,
    scopes,
    top_level_names,
    walk,
)

# ``list.sort`` is a method: any ``<expr>.sort`` counts, since the object's type is not known
# before the program runs. Other dotted names are module attributes (``math.sqrt``).
BUILTIN_TYPES = frozenset(
    {"list", "dict", "set", "frozenset", "str", "bytes", "bytearray", "tuple", "int", "float",
     "complex", "object"}
)
BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass(frozen=True)
class Param:
    kind: str  # "name" (a function, "f" or "Class.method"), "names", "int", "bool"
    required: bool = False


Checker = Callable[[Source, Mapping[str, Any]], list[Finding]]


@dataclass(frozen=True)
class Rule:
    name: str
    params: Mapping[str, Param]
    check: Checker
    title: Callable[[Mapping[str, Any]], str]  # the test's default name


RULES: dict[str, Rule] = {}


def rule(name: str, title: Callable[[Mapping[str, Any]], str], **params: Param,
         ) -> Callable[[Checker], Checker]:
    def register(check: Checker) -> Checker:
        RULES[name] = Rule(name, params, check, title)
        return check

    return register


# ---- the rules -------------------------------------------------------------------------------

_LOOPS: dict[type[ast.AST], str] = {
    ast.For: "a for loop", ast.AsyncFor: "an async for loop", ast.While: "a while loop",
}
_COMPREHENSIONS: dict[type[ast.AST], str] = {
    ast.ListComp: "a list comprehension", ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension", ast.GeneratorExp: "a generator expression",
}


def _in(options: Mapping[str, Any]) -> str:
    return f" in {options['function']}" if "function" in options else ""


@rule("no_loops", lambda o: "no loops" + _in(o), function=Param("name"),
      allow_comprehensions=Param("bool"))
def _no_loops(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    roots, where, missing = scopes(source, options)
    kinds = dict(_LOOPS)
    if not options.get("allow_comprehensions", False):
        kinds.update(_COMPREHENSIONS)
    return missing + [
        Finding(getattr(node, "lineno", 0), f"{kinds[type(node)]}{where}")
        for node in walk(roots) if type(node) in kinds
    ]


@rule("forbidden_calls", lambda o: "does not use " + ", ".join(o["names"]) + _in(o),
      names=Param("names", required=True), function=Param("name"))
def _forbidden_calls(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    roots, where, missing = scopes(source, options)
    imports = imports_of(source.tree)
    own = top_level_names(source.tree)  # a student's own ``def sorted`` is not the builtin
    methods = {n.split(".", 1)[1]: n for n in options["names"]
               if n.split(".")[0] in BUILTIN_TYPES and n.count(".") == 1}
    plain = {n for n in options["names"] if n not in methods.values()}

    def forbidden(node: ast.AST) -> str | None:
        if isinstance(node, ast.Attribute) and node.attr in methods:
            return methods[node.attr]
        if not isinstance(node, ast.Name | ast.Attribute):
            return None
        name = qualified(node, imports.aliases)
        if isinstance(node, ast.Name):
            if node.id in own and node.id not in imports.aliases:
                return None
            if name not in plain:
                return next((f"{m}.{node.id}" for m in imports.star
                             if f"{m}.{node.id}" in plain), None)
        return name if name in plain else None

    findings: list[Finding] = []
    reported: set[int] = set()
    nodes = list(walk(roots))
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        if (name := forbidden(node.func)) is not None:
            findings.append(Finding(node.lineno, f"calls {name}(){where}"))
            reported.update(id(n) for n in ast.walk(node.func))
        elif (isinstance(node.func, ast.Name) and node.func.id == "getattr"
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
            attr = node.args[1].value
            if attr in methods or any(n.rsplit(".", 1)[-1] == attr for n in plain):
                findings.append(Finding(node.lineno, f"looks up {attr!r} with getattr{where}"))
    for node in nodes:
        if id(node) in reported or not isinstance(getattr(node, "ctx", None), ast.Load):
            continue
        if (name := forbidden(node)) is not None:
            findings.append(Finding(getattr(node, "lineno", 0), f"uses {name}{where}"))
            reported.update(id(n) for n in ast.walk(node))
    return missing + findings


@rule("recursive", lambda o: f"{o['function']} is recursive",
      function=Param("name", required=True))
def _recursive(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    """``f`` calls itself, directly or through other functions of the file (mutual recursion).
    A method counts calls as ``self.m(...)``, ``cls.m(...)`` or ``C.m(...)``."""
    name: str = options["function"]
    found = functions(source.tree, name)
    if not found:
        return scopes(source, options)[2]
    cls = name.split(".")[0] if "." in name else None
    # The call graph among top-level functions (or the class's methods for "C.m").
    if cls is None:
        defs = {s.name: s for s in source.tree.body if isinstance(s, FunctionNode)}
    else:
        body = [s for c in source.tree.body if isinstance(c, ast.ClassDef) and c.name == cls
                for s in c.body]
        defs = {s.name: s for s in body if isinstance(s, FunctionNode)}

    def callees(fn: FunctionNode) -> set[str]:
        out: set[str] = set()
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            target = node.func
            if cls is None and isinstance(target, ast.Name):
                out.add(target.id)
            elif (cls is not None and isinstance(target, ast.Attribute)
                  and isinstance(target.value, ast.Name)
                  and target.value.id in ("self", "cls", cls)):
                out.add(target.attr)
        return out & set(defs)

    start = name.split(".")[-1]
    edges = {n: callees(fn) for n, fn in defs.items()}
    seen: set[str] = set()
    todo = list(edges.get(start, ()))
    while todo:
        current = todo.pop()
        if current == start:
            return []
        if current not in seen:
            seen.add(current)
            todo.extend(edges.get(current, ()))
    fn = found[-1]
    return [Finding(fn.lineno, f"{name} never calls itself, directly or through other "
                               f"functions of {source.filename}")]


@rule("defines", lambda o: "defines " + ", ".join(o["names"]),
      names=Param("names", required=True))
def _defines(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    top = top_level_names(source.tree)
    classes = {c.name: c for c in source.tree.body if isinstance(c, ast.ClassDef)}
    missing = []
    for name in options["names"]:
        head, _, member = name.partition(".")
        if not member and head in top:
            continue
        if member and head in classes and member in class_members(classes[head]):
            continue
        where = f"class {head}" if member and head in classes else source.filename
        missing.append(Finding(0, f"{where} does not define {member or head}"))
    return missing


@rule("max_lines", lambda o: f"at most {o['max']} lines" + _in(o),
      max=Param("int", required=True), function=Param("name"))
def _max_lines(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    """Lines of code (not blank, not only a comment, not a docstring) of the file, or of the
    function's body (its ``def`` line not counted, so a one-line body is 1)."""
    roots, _, missing = scopes(source, options)
    code = _code_lines(source)
    limit: int = options["max"]
    findings = []
    for root in roots:
        if isinstance(root, FunctionNode):
            first, last = root.body[0].lineno, root.end_lineno or root.lineno
            what, line = f"the body of {root.name}", root.lineno
        else:
            first, last, what, line = 1, max(code, default=1), source.filename, 0
        count = sum(1 for n in code if first <= n <= last)
        if count > limit:
            findings.append(Finding(line, f"{what} has {count} lines of code; at most {limit} "
                                          "are allowed"))
    return missing + findings


def _code_lines(source: Source) -> set[int]:
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source.text).readline):
            if tok.type not in skip:
                lines.update(range(tok.start[0], tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):  # it parsed, so this is not expected
        lines = {n for n, text in enumerate(source.text.splitlines(), 1)
                 if text.strip() and not text.strip().startswith("#")}
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Module | ast.ClassDef | FunctionNode) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                lines.difference_update(range(first.lineno, (first.end_lineno or 0) + 1))
    return lines


def _import_findings(source: Source, allowed: tuple[str, ...]) -> list[Finding]:
    def ok(module: str) -> bool:
        top = module.split(".")[0]
        return (top == "__future__" or top in source.own_modules
                or any(module == a or module.startswith(a + ".") for a in allowed))

    findings = []
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            findings += [Finding(node.lineno, f"import {a.name}") for a in node.names
                         if not ok(a.name)]
        elif isinstance(node, ast.ImportFrom) and not node.level:  # relative: the student's own
            module = node.module or ""
            if not ok(module):
                bad = [a.name for a in node.names if a.name == "*" or not ok(f"{module}.{a.name}")]
                if bad:
                    findings.append(Finding(node.lineno, f"from {module} import {', '.join(bad)}"))
        elif isinstance(node, ast.Call):
            name = qualified(node.func, {}) if isinstance(node.func, ast.expr) else None
            if name in ("__import__", "importlib.import_module"):
                arg = node.args[0] if node.args else None
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                        and ok(arg.value)):
                    shown = repr(arg.value) if isinstance(arg, ast.Constant) else "…"
                    findings.append(Finding(node.lineno, f"calls {name}({shown})"))
    return findings


@rule("no_imports", lambda o: "no imports")
def _no_imports(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    """No import of any library (``__future__`` and the student's own files excepted)."""
    return _import_findings(source, ())


@rule("allowed_imports", lambda o: "imports only " + ", ".join(o["names"]),
      names=Param("names", required=True))
def _allowed_imports(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    """Imports only the listed modules (and their submodules; "os.path" allows os.path only)."""
    return _import_findings(source, options["names"])


__all__ = ["BUILTIN_NAMES", "BUILTIN_TYPES", "RULES", "Checker", "Param", "Rule", "rule"]
