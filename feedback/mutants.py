"""Line-level mutation operators over one line of a Python submission. Django-free.

The standard operators of program-repair work, each yielding ``(new line text, operator)``:
comparison, arithmetic and boolean operators; integer constants ±1; ±1 on range bounds,
``len(...)``, indices and slice bounds; swapped operands and arguments; another variable of the
same function; min/max and similar name pairs; one indentation level less or more; a string
method's discarded result assigned back; the statement removed. ``line_mutants`` is the entry
point (``feedback.repair.search_candidates`` filters, orders and budgets what it yields). Source
text is only parsed and tokenized here, never executed.
"""

from __future__ import annotations

import ast
import io
import keyword
import tokenize
from collections.abc import Iterator

from feedback.statements import expression_rewrites

COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
ARITHMETIC = ("+", "-", "*", "/", "//", "%")
AUGMENTED = ("+=", "-=", "*=", "/=", "//=", "%=")
BOUNDARY = {("<", "<="), ("<=", "<"), (">", ">="), (">=", ">")}
NAME_PAIRS = {
    "min": "max", "max": "min", "lower": "upper", "upper": "lower", "islower": "isupper",
    "isupper": "islower", "startswith": "endswith", "endswith": "startswith", "find": "rfind",
    "rfind": "find", "isdigit": "isalpha", "isalpha": "isdigit", "and": "or", "or": "and",
    "True": "False", "False": "True", "append": "extend", "any": "all", "all": "any",
    "break": "continue", "continue": "break",
}
STR_METHODS = ("strip", "lower", "upper", "lstrip", "rstrip", "replace", "title", "capitalize",
               "casefold", "split")


def _line_tokens(code: str, line: int) -> list[tokenize.TokenInfo]:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []
    return [t for t in tokens if t.start[0] == line and t.end[0] == line]


def scope_of(tree: ast.AST, line: int) -> ast.AST:
    """The innermost function around ``line``, else the module."""
    scope: ast.AST = tree
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            end = getattr(node, "end_lineno", node.lineno) or node.lineno
            if node.lineno <= line <= end and node.lineno >= getattr(scope, "lineno", 0):
                scope = node
    return scope


def _function_names(tree: ast.AST, line: int) -> list[str]:
    """Names bound in the innermost function around ``line`` (parameters, assignments, loop
    targets), else the module's; in first-seen order."""
    scope = scope_of(tree, line)
    names: list[str] = []
    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
        names += [a.arg for a in [*scope.args.posonlyargs, *scope.args.args,
                                  *scope.args.kwonlyargs]]
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
    return list(dict.fromkeys(names))


def _replace(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _bracket_args(text: str, open_at: int) -> list[tuple[int, int]]:
    """Spans of the top-level comma- or colon-separated parts inside the bracket at
    ``open_at``; [] when it does not close on this line."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    depth, start, parts = 0, open_at + 1, []
    for i in range(open_at, len(text)):
        ch = text[i]
        if ch in pairs:
            depth += 1
        elif ch in pairs.values():
            depth -= 1
            if depth == 0:
                parts.append((start, i))
                return [(a, b) for a, b in parts if text[a:b].strip()]
        elif ch in ",:" and depth == 1:
            parts.append((start, i))
            start = i + 1
    return []


def line_mutants(code: str, line: int) -> Iterator[tuple[str, str]]:
    """(new line text, operator) for one line, cheapest and likeliest first."""
    source_lines = code.splitlines()
    text = source_lines[line - 1]
    tokens = _line_tokens(code, line)
    ops = [t for t in tokens if t.type == tokenize.OP]
    for tok in ops:
        a, b = tok.start[1], tok.end[1]
        if tok.string in COMPARISONS:
            for other in COMPARISONS:
                if other != tok.string:
                    kind = "boundary" if (tok.string, other) in BOUNDARY else "comparison"
                    yield _replace(text, a, b, other), kind
        elif tok.string in ARITHMETIC:
            for other in ARITHMETIC:
                if other != tok.string:
                    yield _replace(text, a, b, other), "arithmetic"
        elif tok.string in AUGMENTED:
            for other in AUGMENTED:
                if other != tok.string:
                    yield _replace(text, a, b, other), "arithmetic"
    for tok in tokens:
        a, b = tok.start[1], tok.end[1]
        if tok.type == tokenize.NUMBER and tok.string.isdigit():
            value = int(tok.string)
            yield _replace(text, a, b, str(value + 1)), "plus_minus_one"
            if value > 0:
                yield _replace(text, a, b, str(value - 1)), "plus_minus_one"
        elif tok.type == tokenize.NAME and tok.string in NAME_PAIRS:
            kind = "boolean" if tok.string in ("and", "or", "True", "False") else "name_pair"
            yield _replace(text, a, b, NAME_PAIRS[tok.string]), kind
        elif tok.type == tokenize.NAME and tok.string == "not":
            yield _replace(text, a, tokens[tokens.index(tok) + 1].start[1]
                           if tokens.index(tok) + 1 < len(tokens) else b, ""), "boolean"
    yield from _membership_mutants(text, tokens)
    yield from _statement_mutants(code, text, line)
    yield from expression_rewrites(code, line)
    yield from _expression_mutants(code, text, line)
    yield from _bound_mutants(text, tokens)
    yield from _swap_mutants(text, tokens)
    yield from _indent_mutants(text, source_lines, line)
    yield from _variable_mutants(code, text, tokens, line)
    stripped = text.strip()
    if stripped and not stripped.startswith(("def ", "class ", "if ", "elif ", "else", "for ",
                                             "while ", "try", "except", "with ", "@")):
        yield text[: len(text) - len(text.lstrip())] + "pass", "delete"


def _membership_mutants(text: str,
                        tokens: list[tokenize.TokenInfo]) -> Iterator[tuple[str, str]]:
    """``is``/``is not`` → ``==``/``!=``; ``in`` ↔ ``not in`` (not the ``in`` of a for header)."""
    names = [t.string for t in tokens]
    for i, tok in enumerate(tokens):
        nxt = names[i + 1] if i + 1 < len(names) else ""
        a, b = tok.start[1], tok.end[1]
        if tok.string == "is":
            if nxt == "not":
                yield _replace(text, a, tokens[i + 1].end[1], "!="), "comparison"
            else:
                yield _replace(text, a, b, "=="), "comparison"
        elif tok.string == "in" and (i == 0 or names[i - 1] != "not"):
            if "for" in names[:i] and names.count("in") == 1 and text.lstrip().startswith("for"):
                continue
            yield _replace(text, a, b, "not in"), "boolean"


def _statement_mutants(code: str, text: str, line: int) -> Iterator[tuple[str, str]]:
    """A string method whose result is thrown away (``word.strip()`` → ``word =
    word.strip()``), and ``input()`` normalized (``.strip()``, ``.lower()``)."""
    stripped = text.strip()
    indent = text[: len(text) - len(text.lstrip())]
    try:
        node = ast.parse(stripped).body[0] if stripped else None
    except (SyntaxError, ValueError, IndexError):
        node = None
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        if isinstance(func, ast.Attribute) and func.attr in STR_METHODS and isinstance(
                func.value, ast.Name):
            yield f"{indent}{func.value.id} = {stripped}", "normalize"
    if "input()" in text:
        for method in ("strip", "lower"):
            yield text.replace("input()", f"input().{method}()", 1), "normalize"


def _segment(text: str, node: ast.AST) -> tuple[int, int] | None:
    """Columns of ``node`` on a one-line ``text`` parsed on its own (col offsets are bytes)."""
    start, end = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
    if start is None or end is None or getattr(node, "end_lineno", 1) != 1:
        return None
    raw = text.encode()
    return len(raw[:start].decode(errors="replace")), len(raw[:end].decode(errors="replace"))


def _expression_mutants(code: str, text: str, line: int) -> Iterator[tuple[str, str]]:
    """Mutations that need the expression tree of the line: ``x = e`` → ``x += e`` (an
    accumulator overwritten), ``range(len(xs))`` → ``xs`` and ``range(n)`` → ``range(1, n + 1)``
    in a for header, the operands of ``+`` swapped (string building order), a slice bound
    dropped, arithmetic inside an f-string, and an integer replaced by another of the program."""
    stripped = text.strip()
    indent = text[: len(text) - len(text.lstrip())]
    source = stripped + ("\n    pass" if stripped.endswith(":") else "")
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return
    statement = tree.body[0] if tree.body else None

    def at(node: ast.AST, new: str) -> str | None:
        span = _segment(stripped, node)
        return None if span is None else indent + stripped[: span[0]] + new + stripped[span[1]:]

    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(
            statement.targets[0], ast.Name):
        target = statement.targets[0].id
        rhs = ast.get_source_segment(stripped, statement.value)
        if rhs and target not in {n.id for n in ast.walk(statement.value)
                                  if isinstance(n, ast.Name)}:
            for op in ("+=", "-="):
                yield f"{indent}{target} {op} {rhs}", "arithmetic"
    if isinstance(statement, ast.For) and isinstance(statement.iter, ast.Call) and isinstance(
            statement.iter.func, ast.Name) and statement.iter.func.id == "range":
        args = statement.iter.args
        if len(args) == 1 and isinstance(args[0], ast.Call) and isinstance(
                args[0].func, ast.Name) and args[0].func.id == "len" and len(args[0].args) == 1:
            seq = ast.get_source_segment(stripped, args[0].args[0])
            new = at(statement.iter, seq) if seq else None
            if new:
                yield new, "other"
        if len(args) == 1:
            bound = ast.get_source_segment(stripped, args[0])
            new = at(statement.iter, f"range(1, {bound} + 1)") if bound else None
            if new:
                yield new, "plus_minus_one"
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = ast.get_source_segment(stripped, node.left)
            right = ast.get_source_segment(stripped, node.right)
            new = at(node, f"{right} + {left}") if left and right else None
            if new:
                yield new, "swap"
        elif isinstance(node, ast.Slice):
            for part in ("lower", "upper"):
                bound = getattr(node, part)
                if bound is None:
                    continue
                lower = ast.get_source_segment(stripped, node.lower) if node.lower else ""
                upper = ast.get_source_segment(stripped, node.upper) if node.upper else ""
                if lower is None or upper is None:
                    continue
                kept = f"{lower}:" if part == "upper" else f":{upper}"
                new = at(node, kept)
                if new:
                    yield new, "plus_minus_one"
        elif isinstance(node, ast.JoinedStr):
            span = _segment(stripped, node)
            if span is None:
                continue
            literal = stripped[span[0]: span[1]]
            for old, repl in ((" // ", " / "), (" / ", " // "), (" - ", " + "), (" + ", " - "),
                              (" * ", " / ")):
                if old in literal:
                    yield at(node, literal.replace(old, repl, 1)) or text, "arithmetic"
    try:
        program = ast.parse(code)
    except (SyntaxError, ValueError):
        return
    constants = {n.value for n in ast.walk(program) if isinstance(n, ast.Constant)
                 and type(n.value) is int and n.value > 1}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) is int:
            for other in sorted(constants - {node.value, node.value + 1, node.value - 1}):
                new = at(node, str(other))
                if new:
                    yield new, "other"


def _bound_mutants(text: str, tokens: list[tokenize.TokenInfo]) -> Iterator[tuple[str, str]]:
    """±1 on each argument of range(...), on len(...), and inside subscripts and slices."""
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok.type == tokenize.NAME and tok.string == "range" and nxt and nxt.string == "(":
            for a, b in _bracket_args(text, nxt.start[1]):
                part = text[a:b].strip()
                lead = a + len(text[a:b]) - len(text[a:b].lstrip())
                end = lead + len(part)
                for delta in (" + 1", " - 1"):
                    yield _replace(text, lead, end, part + delta), "plus_minus_one"
        elif tok.type == tokenize.NAME and tok.string == "len" and nxt and nxt.string == "(":
            spans = _bracket_args(text, nxt.start[1])
            if spans:
                close = spans[-1][1] + 1
                for delta in (" - 1", " + 1"):
                    yield _replace(text, tok.start[1], close,
                                   text[tok.start[1]:close] + delta), "plus_minus_one"
        elif tok.string == "[" and i > 0 and (tokens[i - 1].type == tokenize.NAME
                                              or tokens[i - 1].string in (")", "]")):
            for a, b in _bracket_args(text, tok.start[1]):
                part = text[a:b].strip()
                if not part or part.lstrip("-").isdigit():
                    continue  # constants are handled as numbers
                lead = a + len(text[a:b]) - len(text[a:b].lstrip())
                for delta in (" + 1", " - 1"):
                    yield _replace(text, lead, lead + len(part), part + delta), "plus_minus_one"


def _simple(tok: tokenize.TokenInfo) -> bool:
    return tok.type in (tokenize.NAME, tokenize.NUMBER) and not keyword.iskeyword(tok.string)


def _swap_mutants(text: str, tokens: list[tokenize.TokenInfo]) -> Iterator[tuple[str, str]]:
    """``a - b`` → ``b - a`` for simple operands; two simple call arguments swapped."""
    for i in range(1, len(tokens) - 1):
        left, op, right = tokens[i - 1], tokens[i], tokens[i + 1]
        if op.string in ("-", "/", "//", "%", "<", ">", "<=", ">=") and _simple(left) \
                and _simple(right):
            yield (text[: left.start[1]] + right.string + text[left.end[1]: right.start[1]]
                   + left.string + text[right.end[1]:]), "swap"
    for i, tok in enumerate(tokens[:-1]):
        if tok.type == tokenize.NAME and tokens[i + 1].string == "(":
            spans = _bracket_args(text, tokens[i + 1].start[1])
            if len(spans) == 2:
                (a1, b1), (a2, b2) = spans
                first, second = text[a1:b1].strip(), text[a2:b2].strip()
                if first and second and "=" not in first + second:
                    yield (text[:a1] + text[a1:b1].replace(first, second) + ","
                           + text[a2:b2].replace(second, first) + text[b2:]), "swap"


def _indent_mutants(text: str, lines: list[str], line: int) -> Iterator[tuple[str, str]]:
    """One level less (a ``return`` inside the loop that belongs after it) or more."""
    indent = len(text) - len(text.lstrip())
    unit = 4
    for other in lines:
        width = len(other) - len(other.lstrip())
        if other.strip() and 0 < width < unit:
            unit = width
    if indent >= unit:
        yield text[unit:], "indent"
    previous = next((lines[i] for i in range(line - 2, -1, -1) if lines[i].strip()), "")
    if previous.strip() and len(previous) - len(previous.lstrip()) > indent:
        yield " " * unit + text, "indent"  # a line that fell out of the block above it


def _variable_mutants(code: str, text: str, tokens: list[tokenize.TokenInfo],
                      line: int) -> Iterator[tuple[str, str]]:
    """A name read on the line replaced by another name of the same function (at most 4, the
    ones bound closest above the line first)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return
    names = _function_names(tree, line)
    loads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
             and isinstance(n.ctx, ast.Load) and n.lineno == line}
    # Nearest first: the names bound closest above the line (a loop variable, the last value).
    last_bound: dict[str, int] = {}
    for n in ast.walk(scope_of(tree, line)):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.lineno <= line:
            last_bound[n.id] = max(last_bound.get(n.id, 0), n.lineno)
    names.sort(key=lambda n: -last_bound.get(n, 0))
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or tok.string not in loads or tok.string not in names:
            continue
        if i > 0 and tokens[i - 1].string == ".":
            continue
        others = [n for n in names if n != tok.string][:4]
        for other in others:
            yield _replace(text, tok.start[1], tok.end[1], other), "variable"
