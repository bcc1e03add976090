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
``check_source``. Adding a rule is one ``@rule(...)`` function in ``sandbox.static_rules`` and
a line in the README.

What a static rule can and cannot promise: it sees the source as written. It catches the
ordinary ways of doing a thing (calls, method calls, aliases, ``from x import y as z``,
``getattr`` with a literal name), not a program that builds a name at run time (``eval``,
``getattr(x, "so" + "rt")``). Pair a rule with tests of behaviour, as teachers do by hand.

Parts: this module (validating a rule's parameters at upload, checking a file at grading);
``sandbox.static_rules`` (the registry and the rules); ``sandbox.static_tree`` (the parsed file
and helpers over its tree).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.static_rules import RULES
from sandbox.static_tree import Finding, Source

MAX_FINDINGS_SHOWN = 10


class RuleError(ValueError):
    """A static test's rule or parameters are not valid; the message says which and why."""


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


__all__ = ["RULES", "Finding", "RuleError", "StaticRule", "check_source", "parse_rule"]
