"""Candidate repairs of one line of a Python submission: standard mutation operators. Django-free.

Theory of operation: a repair is the corrected text of one line (``Repair``). The search edits
the tokens of a suspicious line the way program-repair work mutates code (comparison,
arithmetic and boolean operators; integer constants ±1; ±1 on range bounds, ``len(...)``,
indices and slice bounds; swapped operands and arguments; another variable of the same
function; min/max and similar method pairs; one indentation level less or more; the statement
removed; the operators are in ``feedback.mutants``, the statement-level ones in
``feedback.statements``). Every candidate must still parse; nothing here runs student code,
the grader's sandbox decides whether a candidate fixes anything (``validation.py``). Source
text is only parsed and tokenized on this side, never executed.
"""

from __future__ import annotations

import ast
import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from feedback.mutants import line_mutants, scope_of
from feedback.statements import structural_candidates

CATEGORY_OF = {
    "insert": "missing_case", "move": "other", "normalize": "missing_case",
    "boundary": "off_by_one", "plus_minus_one": "off_by_one", "comparison": "wrong_condition",
    "boolean": "wrong_condition", "arithmetic": "wrong_operator", "swap": "wrong_operator",
    "variable": "other", "name_pair": "other", "indent": "other", "delete": "other",
    "model": "other", "guard": "missing_case", "base_case": "missing_case",
    "loop_update": "infinite_loop", "mutable_default": "other", "negate": "wrong_condition",
    "predicate": "wrong_condition", "return_value": "wrong_return", "init": "missing_case",
    "subscript": "other",
}


@dataclass(frozen=True)
class Repair:
    """Replace lines ``line``..``end`` (1-based, inclusive; ``end`` 0 means ``line`` alone) of
    the submission with ``text`` (one or more lines). The voted line is ``line``."""

    line: int
    text: str
    operator: str  # which mutation made it ("model" for a model's own repair)
    category: str
    source: str = "search"  # "search" | "model"
    end: int = 0

    @property
    def last(self) -> int:
        return max(self.end, self.line)

    def apply(self, code: str) -> str:
        lines = code.splitlines(keepends=True)
        ending = "\n" if lines[self.last - 1].endswith("\n") else ""
        new = self.text.rstrip("\n") + ending
        return "".join(lines[: self.line - 1]) + new + "".join(lines[self.last :])


def _parses(code: str) -> bool:
    """Compiles (a return outside a function, a break outside a loop do not). Compiling turns
    text into bytecode that is thrown away: nothing of it runs on this side."""
    try:
        with warnings.catch_warnings():  # the student's own style warnings are not ours to show
            warnings.simplefilter("ignore")
            compile(code, "<candidate>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _block_mutants(code: str, line: int) -> Iterator[Repair]:
    """Missing or misplaced statements around ``line``: a counter that is never increased gets
    ``+= 1`` after the line; an accumulator reset inside a loop moves before the loop."""
    lines = code.splitlines()
    text = lines[line - 1]
    indent = len(text) - len(text.lstrip())
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return
    scope = scope_of(tree, line)
    counters = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                node.targets[0], ast.Name) and isinstance(node.value, ast.Constant) and type(
                node.value.value) is int:
            counters.append(node.targets[0].id)
    bumped = {n.target.id for n in ast.walk(scope)
              if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)}
    header = next((i + 1 for i in range(line - 2, -1, -1)
                   if lines[i].strip() and len(lines[i]) - len(lines[i].lstrip()) < indent
                   and lines[i].lstrip().startswith(("for ", "while "))), 0)
    if header or text.rstrip().endswith(":"):
        inner = " " * (indent + 4) if text.rstrip().endswith(":") else " " * indent
        for name in dict.fromkeys(counters):
            if name in bumped:
                continue
            if line < len(lines):  # "missing before the next line": the line a student reads
                yield Repair(line + 1, f"{inner}{name} += 1\n{lines[line]}", "insert",
                             "missing_case")
            else:
                yield Repair(line, f"{text}\n{inner}{name} += 1", "insert", "missing_case")
    stripped = text.strip()
    if header and indent > 0:
        statement: ast.stmt | None
        try:
            statement = ast.parse(stripped).body[0]
        except (SyntaxError, ValueError, IndexError):
            statement = None
        is_reset = isinstance(statement, ast.Assign) and isinstance(
            statement.value, ast.Constant | ast.List | ast.Dict) and not getattr(
            statement.value, "elts", None) and not getattr(statement.value, "keys", None)
        if is_reset:
            head = lines[header - 1]
            head_indent = head[: len(head) - len(head.lstrip())]
            block = [head_indent + stripped, *lines[header - 1: line - 1]]
            yield Repair(header, "\n".join(block), "move", "other", end=line)


def _take(repairs: Iterator[Repair], code: str, seen: set[str], most: int) -> list[Repair]:
    """Up to ``most`` of ``repairs`` whose patched program compiles and is new."""
    taken: list[Repair] = []
    for repair in repairs:
        if len(taken) >= most:
            break
        patched = repair.apply(code)
        if patched in seen or not _parses(patched):
            continue
        seen.add(patched)
        taken.append(repair)
    return taken


LOOP_OPERATORS = ("loop_update", "indent", "move", "insert")


def search_candidates(code: str, lines: list[int], *, limit: int = 150, per_line: int = 30,
                      round_size: int = 10, looping: bool = False) -> list[Repair]:
    """Distinct candidate repairs for ``lines`` (most suspicious first), at most ``per_line``
    each and ``limit`` in all, taken in rounds of ``round_size`` per line so that a long first
    line does not starve the others. Each one compiles and differs from the submission.
    ``looping`` (a failing test was killed, e.g. for its time) puts the edits that change what
    a loop does each pass first: every wrong candidate then costs a whole time limit."""
    source_lines = code.splitlines()
    seen = {code}
    per: list[list[Repair]] = []
    for line in lines:
        if not 1 <= line <= len(source_lines):
            continue
        one_line = (Repair(line, new_text, operator, CATEGORY_OF.get(operator, "other"))
                    for new_text, operator in line_mutants(code, line))
        # The few block edits first: a per-line cap must never cut a missing statement.
        per.append(_take(itertools.chain(_block_mutants(code, line), one_line), code, seen,
                         per_line))
        if len(per) == 1:  # whole statements for the functions and loops around the top lines
            top = [ln for ln in lines if 1 <= ln <= len(source_lines)][:3]
            structural = (Repair(ln, text, op, CATEGORY_OF.get(op, "other"), end=end)
                          for ln, end, text, op in structural_candidates(code, top))
            per.append(_take(structural, code, seen, per_line))
    found: list[Repair] = []
    for start in range(0, per_line, round_size):
        for mine in per:
            found += mine[start: start + round_size]
    if looping:
        found = ([r for r in found if r.operator in LOOP_OPERATORS]
                 + [r for r in found if r.operator not in LOOP_OPERATORS])
    return found[:limit]


def model_repair(code: str, line: int, text: str, category: str) -> Repair | None:
    """A model's proposed corrected text for ``line``, re-indented like the original when the
    model dropped the indentation; None when it changes nothing or does not parse."""
    source_lines = code.splitlines()
    if not 1 <= line <= len(source_lines) or not text.strip():
        return None
    original = source_lines[line - 1]
    indent = original[: len(original) - len(original.lstrip())]
    new_lines = text.strip("\n").splitlines()
    if new_lines and not new_lines[0].startswith((" ", "\t")):
        new_lines = [indent + ln if ln.strip() else ln for ln in new_lines]
    repair = Repair(line, "\n".join(new_lines), "model", category, source="model")
    patched = repair.apply(code)
    if patched == code or not _parses(patched):
        return None
    return repair


def changed_fragment(original: str, repaired: str) -> str:
    """The part of ``repaired`` that differs from ``original`` (with the tokens around it), used
    by the leak guard to spot an explanation that spells out the fix."""
    import difflib

    a, b = original.strip(), repaired.strip()
    matcher = difflib.SequenceMatcher(None, a, b)
    pieces = [b[j1:j2] for tag, _, _, j1, j2 in matcher.get_opcodes() if tag != "equal"]
    if not pieces:
        return ""
    first = min(j1 for tag, _, _, j1, _ in matcher.get_opcodes() if tag != "equal")
    last = max(j2 for tag, _, _, _, j2 in matcher.get_opcodes() if tag != "equal")
    start = max(0, b.rfind(" ", 0, max(0, first - 1)) + 1)
    end = b.find(" ", min(len(b), last + 1))
    return b[start: end if end != -1 else len(b)].strip()
