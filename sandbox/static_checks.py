"""Static checks (``type = "static"`` tests): rules over the student's Python source, never run.

Theory of operation
-------------------
The grader reads the submission file as text on the trusted side and parses it with ``ast``:
an abstract syntax tree only. Nothing of it is imported, executed or compiled to bytecode, so a
static check is as safe as reading a string. Each rule walks the tree and returns findings
(what was found, and on which line); no finding means the rule holds. Every walk is iterative
(``ast.walk``): a hostile file cannot exhaust the grader's stack, and the parser's own limits
(nesting, recursion during AST construction) become a failed rule with the reason, like a
syntax error does.

``RULES`` is the registry: rule name → ``Rule`` (its parameters and its checker). Package
parsing validates a test's keys against it at upload (``parse_rule``); grading calls
``check_source``. Adding a rule is one ``@_rule(...)`` function below and a line in the README.

What a static rule can and cannot promise: it sees the source as written. It catches the
ordinary ways of doing a thing (calls, method calls, aliases, ``from x import y as z``,
``getattr`` with a literal name), not a program that builds a name at run time (``eval``,
``getattr(x, "so" + "rt")``). Pair a rule with tests of behaviour, as teachers do by hand.
"""

from __future__ import annotations

import ast
import builtins
import io
import tokenize
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_FINDINGS_SHOWN = 10
# ``list.sort`` is a method: any ``<expr>.sort`` counts, since the object's type is not known
# before the program runs. Other dotted names are module attributes (``math.sqrt``).
BUILTIN_TYPES = frozenset(
    {"list", "dict", "set", "frozenset", "str", "bytes", "bytearray", "tuple", "int", "float",
     "complex", "object"}
)
BUILTIN_NAMES = frozenset(dir(builtins))


class RuleError(ValueError):
    """A static test's rule or parameters are not valid; the message says which and why."""


@dataclass(frozen=True)
class Finding:
    """One thing a rule found. ``line`` is 0 when it is about something missing."""

    line: int
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.text}" if self.line else self.text


@dataclass(frozen=True)
class Param:
    kind: str  # "name" (a function, "f" or "Class.method"), "names", "int", "bool"
    required: bool = False


@dataclass(frozen=True)
class Source:
    """A parsed submission file. ``own_modules``: the student's other Python files, by module."""

    tree: ast.Module
    text: str
    filename: str
    own_modules: frozenset[str] = frozenset()


Checker = Callable[[Source, Mapping[str, Any]], list[Finding]]


@dataclass(frozen=True)
class Rule:
    name: str
    params: Mapping[str, Param]
    check: Checker
    title: Callable[[Mapping[str, Any]], str]  # the test's default name


@dataclass(frozen=True)
class StaticRule:
    """A validated rule from assignment.toml: ``params`` as (key, value) pairs, lists as tuples."""

    rule: str
    params: tuple[tuple[str, Any], ...] = ()
    message: str = ""  # the teacher's sentence, shown above the findings when the rule fails

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.params)

    def title(self) -> str:
        return RULES[self.rule].title(self.options)


RULES: dict[str, Rule] = {}


def _rule(name: str, title: Callable[[Mapping[str, Any]], str], **params: Param,
          ) -> Callable[[Checker], Checker]:
    def register(check: Checker) -> Checker:
        RULES[name] = Rule(name, params, check, title)
        return check

    return register


# ---- parameters, validated at upload ---------------------------------------------------------


def parse_rule(rule: Any, raw: Mapping[str, Any], message: str = "") -> StaticRule:
    """Validate ``rule`` and its parameters ``raw`` (the test's other keys). Raises RuleError."""
    if rule not in RULES:
        raise RuleError(f"rule must be one of {sorted(RULES)}, got {rule!r}")
    spec = RULES[rule]
    unknown = set(raw) - set(spec.params)
    if unknown:
        known = ", ".join(sorted(spec.params)) or "none"
        raise RuleError(f"unknown keys {sorted(unknown)} for rule {rule!r}; its keys: {known}")
    values: list[tuple[str, Any]] = []
    for key, param in spec.params.items():
        if key not in raw:
            if param.required:
                raise RuleError(f"rule {rule!r} needs {key} ({_KIND_HELP[param.kind]})")
            continue
        values.append((key, _parse_value(key, param.kind, raw[key])))
    return StaticRule(rule, tuple(values), message)


_KIND_HELP = {
    "name": 'a function name, e.g. "fib" or "Stack.push"',
    "names": 'a non-empty list of names, e.g. ["sorted", "list.sort"]',
    "int": "a whole number of at least 1",
    "bool": "true or false",
}


def _dotted(value: Any) -> bool:
    return isinstance(value, str) and all(part.isidentifier() for part in value.split("."))


def _parse_value(key: str, kind: str, value: Any) -> Any:
    ok = {
        "name": lambda v: _dotted(v) and v.count(".") <= 1,
        "names": lambda v: isinstance(v, list) and len(v) > 0 and all(_dotted(n) for n in v),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
        "bool": lambda v: isinstance(v, bool),
    }[kind](value)
    if not ok:
        raise RuleError(f"{key} must be {_KIND_HELP[kind]}, got {value!r}")
    return tuple(value) if kind == "names" else value


# ---- running a rule --------------------------------------------------------------------------


def check_source(rule: StaticRule, source: bytes, *, filename: str,
                 own_modules: frozenset[str] = frozenset()) -> tuple[bool, str]:
    """Parse ``source`` (never run it) and check ``rule``: ``(passed, output)``.

    A file that does not parse fails with the parser's message. Any other exception is a bug
    of ours (a trusted step) and propagates for the caller to report as such.
    """
    try:
        text = source.decode("utf-8")
        tree = ast.parse(text, filename=filename)
    except UnicodeDecodeError as exc:
        found = Finding(0, f"{filename} is not UTF-8 text (byte {exc.start})")
        return False, _output(rule, [found])
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        found = Finding(0, f"{filename} does not parse, so the rule cannot hold: {exc.msg}{where}")
        return False, _output(rule, [found])
    except (RecursionError, MemoryError, ValueError) as exc:
        # The parser's own limits (nesting depth, NUL bytes): not Python we can check.
        why = str(exc) or "it is nested too deeply"
        return False, _output(rule, [Finding(0, f"{filename} could not be parsed: {why}")])
    findings = RULES[rule.rule].check(Source(tree, text, filename, own_modules), rule.options)
    return not findings, _output(rule, findings) if findings else ""


def _output(rule: StaticRule, findings: list[Finding]) -> str:
    lines = [str(f) for f in sorted(findings, key=lambda f: f.line)[:MAX_FINDINGS_SHOWN]]
    if len(findings) > MAX_FINDINGS_SHOWN:
        lines.append(f"… and {len(findings) - MAX_FINDINGS_SHOWN} more")
    return "\n".join(([rule.message.strip()] if rule.message.strip() else []) + lines)


# ---- helpers over the tree -------------------------------------------------------------------

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _functions(tree: ast.Module, dotted: str) -> list[FunctionNode]:
    """Every top-level ``def f`` (or ``def m`` in top-level ``class C`` for "C.m")."""
    body: list[ast.stmt] = tree.body
    if "." in dotted:
        cls, dotted = dotted.split(".")
        body = [s for c in tree.body if isinstance(c, ast.ClassDef) and c.name == cls
                for s in c.body]
    return [s for s in body if isinstance(s, FunctionNode) and s.name == dotted]


def _scopes(source: Source, options: Mapping[str, Any]) -> tuple[list[ast.AST], str, list[Finding]]:
    """The nodes a rule looks at (the function, or the whole file), how to name them, and a
    finding when the function is missing."""
    name = options.get("function")
    if name is None:
        return [source.tree], "", []
    found = _functions(source.tree, name)
    if not found:
        return [], "", [Finding(0, f"{source.filename} does not define {name} (def {name} at "
                                   "the top level" + (" of its class" if "." in name else "") +
                                   ")")]
    return list(found), f" in {name}", []


def _walk(roots: list[ast.AST]) -> Iterator[ast.AST]:
    for root in roots:
        yield from ast.walk(root)


def _qualified(node: ast.expr, aliases: Mapping[str, str]) -> str | None:
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
class _Imports:
    aliases: dict[str, str] = field(default_factory=dict)  # local name → qualified name
    star: list[str] = field(default_factory=list)  # modules imported with *


def _imports(tree: ast.Module) -> _Imports:
    found = _Imports()
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


def _top_level_names(tree: ast.Module) -> set[str]:
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


def _class_members(cls: ast.ClassDef) -> set[str]:
    return _top_level_names(ast.Module(body=cls.body, type_ignores=[]))


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


@_rule("no_loops", lambda o: "no loops" + _in(o), function=Param("name"),
       allow_comprehensions=Param("bool"))
def _no_loops(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    roots, where, missing = _scopes(source, options)
    kinds = dict(_LOOPS)
    if not options.get("allow_comprehensions", False):
        kinds.update(_COMPREHENSIONS)
    return missing + [
        Finding(getattr(node, "lineno", 0), f"{kinds[type(node)]}{where}")
        for node in _walk(roots) if type(node) in kinds
    ]


@_rule("forbidden_calls", lambda o: "does not use " + ", ".join(o["names"]) + _in(o),
       names=Param("names", required=True), function=Param("name"))
def _forbidden_calls(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    roots, where, missing = _scopes(source, options)
    imports = _imports(source.tree)
    own = _top_level_names(source.tree)  # a student's own ``def sorted`` is not the builtin
    methods = {n.split(".", 1)[1]: n for n in options["names"]
               if n.split(".")[0] in BUILTIN_TYPES and n.count(".") == 1}
    plain = {n for n in options["names"] if n not in methods.values()}

    def forbidden(node: ast.AST) -> str | None:
        if isinstance(node, ast.Attribute) and node.attr in methods:
            return methods[node.attr]
        if not isinstance(node, ast.Name | ast.Attribute):
            return None
        name = _qualified(node, imports.aliases)
        if isinstance(node, ast.Name):
            if node.id in own and node.id not in imports.aliases:
                return None
            if name not in plain:
                return next((f"{m}.{node.id}" for m in imports.star
                             if f"{m}.{node.id}" in plain), None)
        return name if name in plain else None

    findings: list[Finding] = []
    reported: set[int] = set()
    nodes = list(_walk(roots))
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


@_rule("recursive", lambda o: f"{o['function']} is recursive",
       function=Param("name", required=True))
def _recursive(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    """``f`` calls itself, directly or through other functions of the file (mutual recursion).
    A method counts calls as ``self.m(...)``, ``cls.m(...)`` or ``C.m(...)``."""
    name: str = options["function"]
    found = _functions(source.tree, name)
    if not found:
        return _scopes(source, options)[2]
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


@_rule("defines", lambda o: "defines " + ", ".join(o["names"]),
       names=Param("names", required=True))
def _defines(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    top = _top_level_names(source.tree)
    classes = {c.name: c for c in source.tree.body if isinstance(c, ast.ClassDef)}
    missing = []
    for name in options["names"]:
        head, _, member = name.partition(".")
        if not member and head in top:
            continue
        if member and head in classes and member in _class_members(classes[head]):
            continue
        where = f"class {head}" if member and head in classes else source.filename
        missing.append(Finding(0, f"{where} does not define {member or head}"))
    return missing


@_rule("max_lines", lambda o: f"at most {o['max']} lines" + _in(o),
       max=Param("int", required=True), function=Param("name"))
def _max_lines(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    """Lines of code (not blank, not only a comment, not a docstring) of the file, or of the
    function's body (its ``def`` line not counted, so a one-line body is 1)."""
    roots, _, missing = _scopes(source, options)
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
            name = _qualified(node.func, {}) if isinstance(node.func, ast.expr) else None
            if name in ("__import__", "importlib.import_module"):
                arg = node.args[0] if node.args else None
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                        and ok(arg.value)):
                    shown = repr(arg.value) if isinstance(arg, ast.Constant) else "…"
                    findings.append(Finding(node.lineno, f"calls {name}({shown})"))
    return findings


@_rule("no_imports", lambda o: "no imports")
def _no_imports(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    """No import of any library (``__future__`` and the student's own files excepted)."""
    return _import_findings(source, ())


@_rule("allowed_imports", lambda o: "imports only " + ", ".join(o["names"]),
       names=Param("names", required=True))
def _allowed_imports(source: Source, options: Mapping[str, Any]) -> list[Finding]:
    """Imports only the listed modules (and their submodules; "os.path" allows os.path only)."""
    return _import_findings(source, options["names"])


__all__ = ["RULES", "Finding", "RuleError", "StaticRule", "check_source", "parse_rule"]
