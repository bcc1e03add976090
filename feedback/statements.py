"""Candidate repairs that add, move or rewrite whole statements, from the syntax tree. Django-free.

Theory of operation: the token-level operators of ``repair.py`` change what is on a line; many
beginners' bugs are a statement that is *not there* or an expression of the wrong shape. These
operators cover the shapes intro courses see most, each a ``Repair`` like any other (the sandbox
decides whether it fixes anything; nothing here runs student code):

- ``guard``: a function that does not handle the empty input gets ``if not p: return r`` before
  its first statement (``r`` one of the values the program returns elsewhere, or a neutral one);
- ``base_case``: a recursive function's base case with the wrong stopping value and result
  (``if n == 1: return n`` → ``if n == 0: return 1``), both changed together;
- ``loop_update``: a ``while`` loop whose condition reads a name the body never changes gets the
  update at the end of its body (``i += 1``, ``i -= 1``, or the assignment made before the loop,
  e.g. ``line = input()``);
- ``mutable_default``: ``def f(x, acc=[])`` → ``acc=None`` plus ``if acc is None: acc = []``;
- single-line rewrites (``expression_rewrites``): a condition negated, a comparison with one
  character swapped for a ``str`` predicate (``ch != " "`` → ``ch.isalpha()``), a string
  normalised (``text`` → ``text.lower()``), a number used as an index where the item was meant
  (``best`` → ``numbers[best]``), a recursive call's argument ±1, a returned constant replaced by
  a name in scope, and an accumulator started at ``xs[0]`` or ±infinity instead of a constant.

The voted line of an insertion is the line it goes in front of (the line a teacher points at
for "something is missing here"); of a multi-line rewrite, its first line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

NEUTRAL_RESULTS = ("0", "None", "0.0", '""', "[]", "False", "True", "1")
PREDICATES = ("isalpha", "isalnum", "isdigit", "isspace")
NORMALISE = ("lower", "strip")
MAX_GUARD_PARAMS = 2
MAX_NAMES = 4

Candidate = tuple[int, int, str, str]  # (line, end line or 0, new text, operator)


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    return [a for a in args if a not in ("self", "cls")]


def _enclosing(tree: ast.AST,
               line: int) -> list[ast.FunctionDef | ast.AsyncFunctionDef | ast.While | ast.For]:
    """Every function and loop whose span holds ``line``, innermost last."""
    found: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.While | ast.For] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.While | ast.For):
            end = getattr(node, "end_lineno", None) or node.lineno
            if node.lineno <= line <= end:
                found.append(node)
    return sorted(found, key=lambda n: n.lineno)


def _insert_before(lines: list[str], before: int, new: list[str]) -> Candidate:
    """Insert ``new`` (indented lines) in front of line ``before`` (1-based)."""
    return (before, 0, "\n".join([*new, lines[before - 1]]), "")


def _insert_after(lines: list[str], after: int, new: list[str]) -> Candidate:
    """Insert ``new`` after line ``after``: voted on the next line when there is one."""
    if after < len(lines):
        return _insert_before(lines, after + 1, new)
    return (after, 0, "\n".join([lines[after - 1], *new]), "")


def _returned_values(fn: ast.AST, source: str) -> list[str]:
    values = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant | ast.List):
            text = ast.get_source_segment(source, node.value)
            if text and len(text) <= 20:
                values.append(text)
    return list(dict.fromkeys(values))


def _guards(fn: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str],
            source: str) -> Iterator[Candidate]:
    body = fn.body
    first = body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(body) > 1:
        first = body[1]  # after the docstring
    indent = _indent(lines[first.lineno - 1])
    unit = indent[len(_indent(lines[fn.lineno - 1])):] or "    "
    results = list(dict.fromkeys([*_returned_values(fn, source), *NEUTRAL_RESULTS]))
    tested = {n.id for node in body if isinstance(node, ast.If) for n in ast.walk(node.test)
              if isinstance(n, ast.Name)}
    for param in [p for p in _params(fn) if p not in tested][:MAX_GUARD_PARAMS]:
        for result in [*results[:3], param, *results[3:]]:
            line, end, text, _ = _insert_before(
                lines, first.lineno, [f"{indent}if not {param}:", f"{indent}{unit}return {result}"])
            yield line, end, text, "guard"


def _base_cases(fn: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str],
                source: str) -> Iterator[Candidate]:
    """``if n == c: return e`` in a function that calls itself: c ±1 together with e replaced."""
    calls_itself = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                       and n.func.id == fn.name for n in ast.walk(fn))
    if not calls_itself:
        return
    for node in fn.body:
        if not (isinstance(node, ast.If) and len(node.body) == 1
                and isinstance(node.body[0], ast.Return) and node.body[0].value is not None
                and isinstance(node.test, ast.Compare) and len(node.test.comparators) == 1
                and isinstance(node.test.comparators[0], ast.Constant)
                and type(node.test.comparators[0].value) is int
                and node.body[0].lineno == node.lineno + 1 and not node.orelse):
            continue
        value = node.test.comparators[0].value
        head, ret = lines[node.lineno - 1], lines[node.lineno]
        old_cmp = ast.get_source_segment(source, node.test.comparators[0])
        old_ret = ast.get_source_segment(source, node.body[0].value)
        if not old_cmp or not old_ret or old_cmp not in head or old_ret not in ret:
            continue
        pos = head.rindex(old_cmp)
        for other in (value - 1, value + 1):
            if other < 0:
                continue
            new_head = head[:pos] + str(other) + head[pos + len(old_cmp):]
            for result in ("0", "1", *_params(fn)[:2], '""', "[]"):
                if result == old_ret:
                    continue
                new_ret = ret[: ret.rindex(old_ret)] + result
                yield node.lineno, node.lineno + 1, f"{new_head}\n{new_ret}", "base_case"


def _loop_updates(loop: ast.While, lines: list[str], source: str,
                  before: dict[str, str]) -> Iterator[Candidate]:
    """Names the condition reads and the body never assigns: update them at the body's end."""
    read = [n.id for n in ast.walk(loop.test) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)]
    assigned = set()
    for node in ast.walk(ast.Module(body=loop.body, type_ignores=[])):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            assigned.add(node.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(
                node.func.value, ast.Name):
            assigned.add(node.func.value.id)  # xs.pop(): the loop changes xs
    last = loop.body[-1]
    end = getattr(last, "end_lineno", None) or last.lineno
    indent = _indent(lines[loop.body[0].lineno - 1])
    for name in dict.fromkeys(read):
        if name in assigned or name in ("True", "False", "None"):
            continue
        updates = [f"{name} += 1", f"{name} -= 1"]
        if name in before:
            updates.insert(0, before[name])
        for update in updates:
            line, stop, text, _ = _insert_after(lines, end, [indent + update])
            yield line, stop, text, "loop_update"


def _assignments_before(scope: ast.AST, source: str, loop: ast.While) -> dict[str, str]:
    """``name = call(...)`` statements before ``loop`` in its scope (a re-read: ``input()``)."""
    found: dict[str, str] = {}
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and node.lineno < loop.lineno and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call):
            text = ast.get_source_segment(source, node)
            if text and "\n" not in text:
                found[node.targets[0].id] = text
    return found


def _mutable_defaults(fn: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str],
                      source: str) -> Iterator[Candidate]:
    positional = [*fn.args.posonlyargs, *fn.args.args]
    pairs = list(zip(positional[len(positional) - len(fn.args.defaults):], fn.args.defaults,
                     strict=True))
    pairs += [(a, d) for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True)
              if d is not None]
    head = lines[fn.lineno - 1]
    if not head.rstrip().endswith(":") or fn.body[0].lineno == fn.lineno:
        return
    first = fn.body[0]
    indent = _indent(lines[first.lineno - 1])
    unit = indent[len(_indent(head)):] or "    "
    for arg, default in pairs:
        if not isinstance(default, ast.List | ast.Dict | ast.Set) and not (
                isinstance(default, ast.Call) and isinstance(default.func, ast.Name)
                and default.func.id in ("list", "dict", "set")):
            continue
        text = ast.get_source_segment(source, default)
        if not text or getattr(default, "lineno", 0) != fn.lineno:
            continue
        col = default.col_offset
        new_head = head[:col] + "None" + head[default.end_col_offset or col:]
        new = [new_head, *lines[fn.lineno: first.lineno - 1],
               f"{indent}if {arg.arg} is None:", f"{indent}{unit}{arg.arg} = {text}",
               lines[first.lineno - 1]]
        yield fn.lineno, first.lineno, "\n".join(new), "mutable_default"


def structural_candidates(code: str, lines_of_interest: list[int]) -> Iterator[Candidate]:
    """Guards, base cases, loop updates and mutable defaults for the functions and loops that
    hold ``lines_of_interest`` (most suspicious first), each place once."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return
    lines = code.splitlines()
    seen: set[int] = set()
    for line in lines_of_interest:
        for node in reversed(_enclosing(tree, line)):  # innermost first
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, ast.While):
                scope = next((n for n in reversed(_enclosing(tree, node.lineno))
                              if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)), tree)
                yield from _loop_updates(node, lines, code,
                                         _assignments_before(scope, code, node))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from _mutable_defaults(node, lines, code)
                yield from _base_cases(node, lines, code)
                yield from _guards(node, lines, code)


def _names_in_scope(tree: ast.AST, line: int) -> list[str]:
    """Names bound in the function around ``line`` (else the module), nearest above first."""
    scope = tree
    for fn in _functions(tree):
        if fn.lineno <= line <= (fn.end_lineno or fn.lineno) and fn.lineno >= getattr(
                scope, "lineno", 0):
            scope = fn
    bound: dict[str, int] = {}
    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
        for a in [*scope.args.posonlyargs, *scope.args.args, *scope.args.kwonlyargs]:
            bound[a.arg] = scope.lineno
    for n in ast.walk(scope):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n.lineno <= line:
            bound[n.id] = max(bound.get(n.id, 0), n.lineno)
    return sorted(bound, key=lambda n: -bound[n])


def expression_rewrites(code: str, line: int) -> Iterator[tuple[str, str]]:
    """(new line text, operator) for single-line rewrites that need the program's syntax tree."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return
    lines = code.splitlines()
    text = lines[line - 1]
    statements = [n for n in ast.walk(tree) if isinstance(n, ast.stmt) and n.lineno == line]
    if not statements:
        return
    stmt = statements[0]

    def swap(node: ast.AST, new: str) -> str | None:
        if getattr(node, "lineno", None) != line or getattr(node, "end_lineno", None) != line:
            return None
        raw = text.encode()
        start = len(raw[: node.col_offset].decode(errors="replace"))  # type: ignore[attr-defined]
        end = len(raw[: node.end_col_offset].decode(errors="replace"))  # type: ignore[attr-defined]
        return text[:start] + new + text[end:]

    def segment(node: ast.AST) -> str:
        return ast.get_source_segment(code, node) or ""

    # A condition negated (``if x:`` → ``if not x:``); ``not x`` → ``x`` is a token operator.
    if isinstance(stmt, ast.If | ast.While) and not (
            isinstance(stmt.test, ast.UnaryOp) and isinstance(stmt.test.op, ast.Not)):
        inner = segment(stmt.test)
        wrapped = f"not {inner}" if isinstance(stmt.test, ast.Name | ast.Call | ast.Attribute |
                                               ast.Subscript) else f"not ({inner})"
        new = swap(stmt.test, wrapped) if inner else None
        if new:
            yield new, "negate"
    names = _names_in_scope(tree, line)
    subscripted = {n.value.id for n in ast.walk(tree) if isinstance(n, ast.Subscript)
                   and isinstance(n.value, ast.Name)}
    sequences = subscripted | {n.iter.id for n in ast.walk(tree)
                               if isinstance(n, ast.For) and isinstance(n.iter, ast.Name)}
    indexes = {n.id for s in ast.walk(tree) if isinstance(s, ast.Subscript)
               for n in ast.walk(s.slice) if isinstance(n, ast.Name)}
    uses_strings = any(isinstance(n, ast.Constant) and isinstance(n.value, str)
                       for n in ast.walk(tree)) or any(
        isinstance(n, ast.Attribute) and n.attr in ("lower", "upper", "isalpha", "strip")
        for n in ast.walk(tree))
    own = [n for n in ast.walk(stmt) if getattr(n, "lineno", None) == line]
    for node in own:
        # ``ch != " "`` → a str predicate of the same polarity.
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(
                node.ops[0], ast.Eq | ast.NotEq) and isinstance(node.comparators[0], ast.Constant) \
                and isinstance(node.comparators[0].value, str) \
                and len(node.comparators[0].value) <= 1:
            subject = segment(node.left)
            if subject:
                positive = isinstance(node.ops[0], ast.NotEq)
                for predicate in PREDICATES:
                    call = f"{subject}.{predicate}()"
                    new = swap(node, call if positive else f"not {call}")
                    if new:
                        yield new, "predicate"
        # A returned constant that should have been a name in scope.
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant):
            for name in names[:MAX_NAMES]:
                new = swap(node.value, name)
                if new:
                    yield new, "return_value"
        # A recursive call's argument ±1 (a call that never gets closer to its base case).
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and any(
                isinstance(f, ast.FunctionDef) and f.name == node.func.id
                and f.lineno <= line <= (f.end_lineno or f.lineno) for f in _functions(tree)):
            for arg in node.args:
                if isinstance(arg, ast.Name | ast.Attribute | ast.Subscript):
                    for delta in (" - 1", " + 1"):
                        new = swap(arg, segment(arg) + delta)
                        if new:
                            yield new, "plus_minus_one"
        # An accumulator started at a constant instead of the first item or ±infinity.
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and type(
                node.value.value) in (int, float):
            for seq in [n for n in names if n in sequences][:2]:
                new = swap(node.value, f"{seq}[0]")
                if new:
                    yield new, "init"
            for value in ('float("-inf")', 'float("inf")', "None"):
                new = swap(node.value, value)
                if new:
                    yield new, "init"
    loads = [n for n in own if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    parents = {id(child): parent for parent in own for child in ast.iter_child_nodes(parent)}
    for node in loads:
        parent = parents.get(id(node))
        is_callee = isinstance(parent, ast.Call) and parent.func is node
        is_base = isinstance(parent, ast.Attribute | ast.Subscript) and parent.value is node
        if is_callee or is_base:
            continue
        # An index compared where the item was meant: ``best`` → ``numbers[best]``, for a name
        # compared with an item of a sequence, or one the program uses as an index elsewhere.
        beside = [o.value.id for o in ([parent.left, *parent.comparators]
                                       if isinstance(parent, ast.Compare) else [])
                  if isinstance(o, ast.Subscript) and isinstance(o.value, ast.Name)]
        in_slice = isinstance(parent, ast.Subscript) and parent.slice is node
        if not in_slice and (beside or node.id in indexes):
            candidates = list(dict.fromkeys([*beside, *sorted(subscripted)]))
            for seq in [n for n in candidates if n != node.id][:2]:
                new = swap(node, f"{seq}[{node.id}]")
                if new:
                    yield new, "subscript"
        # A string compared or collected before it was normalised: ``ch`` → ``ch.lower()``.
        compares_text = isinstance(parent, ast.Compare) and (
            any(isinstance(op, ast.In | ast.NotIn) for op in parent.ops)
            or any(isinstance(c, ast.Constant) and isinstance(c.value, str)
                   for c in [parent.left, *parent.comparators]))
        if uses_strings and (isinstance(stmt, ast.For) and node is stmt.iter
                             or isinstance(stmt, ast.AugAssign) and node is stmt.value
                             or compares_text):
            for method in NORMALISE:
                new = swap(node, f"{node.id}.{method}()")
                if new:
                    yield new, "normalize"


def control_parents(code: str) -> dict[int, int]:
    """Line → the line of the innermost ``if``/``while``/``for`` header that decides whether it
    runs ({} when the code does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return {}
    parent: dict[int, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If | ast.While | ast.For):
            for child in [*node.body, *node.orelse]:
                for inner in ast.walk(child):
                    ln = getattr(inner, "lineno", None)
                    if ln is not None and (ln not in parent or parent[ln] < node.lineno):
                        parent[ln] = node.lineno  # the innermost header wins
    return parent


def with_control_parents(code: str, lines: list[int]) -> list[int]:
    """``lines`` with, after each, the ``if``/``while``/``for`` header that decides whether it
    runs (when not listed yet): a branch that runs when it should not is wrong at its condition,
    which every test runs and fault localization therefore ranks low."""
    parent = control_parents(code)
    out: list[int] = []
    for ln in lines:
        for candidate in (ln, parent.get(ln)):
            if candidate is not None and candidate not in out:
                out.append(candidate)
    return out

