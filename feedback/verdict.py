"""One verdict from model samples and checked repairs, and the explanation a student reads.
Django-free, plain data only.

Theory of operation: the voters are the K model samples plus every search repair that the
sandbox validated (fully or partly). A voter backs its line with a validated repair, a partial
one, or only its word (a model sample whose repair failed or that gave none). Votes group by
line, so repairs on the same line count together. A line with a validated voter wins; among
several, the one whose value the others read (a value is wrong where it is made), then a branch
over the condition that decides it (changing the condition only routes around the branch), then
the one with the smallest validated repair, then the one with the most validated voters; then
come the most partial voters, the most unchecked model votes and the fault-localization rank.
The confidence is validated k/K: voters with a (fully or partly) validated repair on the winning
line over all voters. A result without any validated voter is *unverified*: it may be shown to
the teacher, it is never released automatically.

The explanation is grounded in ONE failing test that the winning repair turns green (a visible
one when there is one) and in what the program holds when it reaches the line. Hidden tests give
no input, expected output, output or name. A validated model sample's own steps are used when it
has some; otherwise a template writes them. Either way the leak guard removes every sentence that
reproduces a repair (its changed fragment or the corrected line), so the fix never reaches the
student.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from feedback.repair import Repair, changed_fragment
from feedback.statements import control_parents
from feedback.validation import PARTIAL, VALIDATED, Checked
from feedback.voting import SampleVerdict, clean_text

UNVERIFIED = "unverified"
LEVEL = {VALIDATED: 2, PARTIAL: 1}

CATEGORY_STEP = {
    "wrong_operator": "The arithmetic on this line does not compute what the task asks for "
    "these values: work it out by hand for them and compare.",
    "off_by_one": "A bound or a constant on this line is off by one: the comparison or loop "
    "goes one step too far or stops one step too early.",
    "wrong_condition": "The condition on this line decides the wrong way for this input.",
    "wrong_return": "The value this line gives back is not the one the task asks for.",
    "missing_case": "This line does not handle one of the cases the task describes.",
    "infinite_loop": "The loop around this line never reaches its end for this input.",
    "other": "What this line does for this input is not what the task needs.",
}
OPERATOR_STEP = {  # where the checked repair says more than the category does
    "insert": "A step your program needs is missing just before this line: follow a value that "
    "should change as the program runs, and check that it really does.",
    "move": "A statement in this part of the program runs in the wrong place: check where it "
    "runs, and how many times.",
    "guard": "The function does not handle an input with nothing in it: think about what it "
    "should give back before it does anything else.",
    "base_case": "The recursion stops at the wrong point, or gives back the wrong value when it "
    "stops: work out by hand the smallest input the task allows.",
    "loop_update": "Something the loop's condition depends on never changes inside the loop, so "
    "the loop does not move on the way it should.",
    "mutable_default": "A default value that can be changed is made once, when the function is "
    "defined, and shared by every call: a second call sees what the first one left.",
    "init": "The value this line starts with is not a safe starting point for every input: try "
    "the failing input and look at the first comparison.",
    "normalize": "This line treats text differently depending on how it is written (upper or "
    "lower case, spaces): the task treats those the same.",
}
CATEGORY_HINT = {
    "wrong_operator": "Which operation does the task describe for these two values?",
    "off_by_one": "Trace the first and the last value by hand: should the boundary itself "
    "be included?",
    "wrong_condition": "For which inputs should this condition be true? Try the failing input.",
    "wrong_return": "Which value should the function hand back at this point?",
    "missing_case": "Which input does the task mention that this line does not handle?",
    "infinite_loop": "What changes on every pass of the loop, and when does it stop?",
    "other": "Run the failing input by hand and write down the value after this line.",
}


@dataclass
class GroundingTest:
    name: str
    visible: bool
    stdin: str = ""
    expected: str = ""
    actual: str = ""
    # Its result is the program's stdout against an expected one (its test type's ``io_diff``):
    # the steps quote its input and expected output, else its failure message.
    io_diff: bool = True


@dataclass
class FeedbackVerdict:
    line: int | None
    category: str
    verification: str  # validated | partial | unverified
    votes: int  # k: validated (or partial) voters on the line
    voters: int  # K
    repair: str  # the winning corrected line: teacher-only
    repair_source: str  # search | model | ""
    explanation: str
    hint: str
    source: str  # template | model: who wrote the explanation
    grounding: str  # the failing test the explanation is about ("" for a hidden test)
    removed: int  # pieces the leak guard removed from the final text
    leaked: bool  # the final text still reproduces a repair (measured, should never be)
    voters_detail: list[dict[str, Any]] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        return self.votes / self.voters if self.voters else 0.0


@dataclass
class _Voter:
    line: int
    level: int  # 2 validated, 1 partial, 0 unchecked or rejected
    category: str
    origin: str  # "model" | "search"
    checked: Checked | None = None
    sample: SampleVerdict | None = None


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _code_like(piece: str) -> bool:
    """Worth looking for in prose: has an operator or bracket, or is long. A lone word such as
    ``pass`` or ``n`` also occurs in ordinary sentences ("the tests pass")."""
    return len(piece) >= 3 and (bool(re.search(r"[^\w\s]", piece)) or len(piece) >= 8)


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text)


def _found(piece: str, flat: str) -> bool:
    """``piece`` occurs in ``flat`` as whole tokens, whatever the spacing (``b+a`` = ``b + a``)."""
    want, have = _tokens(piece), _tokens(flat)
    return bool(want) and any(have[i:i + len(want)] == want
                              for i in range(len(have) - len(want) + 1))


def reproduces_repair(text: str, code: str, repairs: Sequence[Repair]) -> bool:
    """Whether ``text`` spells out one of ``repairs`` (its corrected line or changed part)."""
    lines = code.splitlines()
    flat = _norm(text)
    student = _norm(code)
    for r in repairs:
        if not 1 <= r.line <= len(lines):
            continue
        fixed = _norm(r.text)
        before = "\n".join(lines[r.line - 1: r.last])
        original = _norm(before)
        fragment = _norm(changed_fragment(before, r.text))
        if fixed and fixed != original and _code_like(fixed) and _found(fixed, flat):
            return True
        if _code_like(fragment) and fragment not in student and _found(fragment, flat):
            return True
    return False


def leak_guard(text: str, code: str, repairs: Sequence[Repair]) -> tuple[str, int]:
    """Remove code blocks and near-copies of changed lines (``voting.clean_text``), then every
    sentence that reproduces a repair. Returns the text and how many pieces went."""
    cleaned, removed = clean_text(text, code)
    kept: list[str] = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n", cleaned):
        if sentence.strip() and reproduces_repair(sentence, code, repairs):
            removed += 1
        elif sentence.strip():
            kept.append(sentence.strip())
    return "\n".join(kept), removed


def _shown(text: str, limit: int = 120) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + " …"


def _pytest_gist(output: str) -> str:
    """The assertion of a pytest failure (its ``E`` lines), else its first non-empty line."""
    found = [ln.strip()[1:].strip() for ln in output.splitlines() if ln.strip().startswith("E ")]
    found = [f.lstrip("+").strip() for f in found if f]
    if found:
        return "; ".join(found[:2])
    return next((ln.strip() for ln in output.splitlines() if ln.strip()), "")


def template_steps(line: int, code: str, category: str, test: GroundingTest | None,
                   probes: Sequence[Mapping[str, str]], verification: str,
                   operator: str = "") -> list[str]:
    lines = code.splitlines()
    quoted = lines[line - 1].strip() if 1 <= line <= len(lines) else ""
    steps: list[str] = []
    if test is None:
        steps.append("One of the tests fails.")
    elif not test.visible:
        steps.append("A hidden test fails (its input is not shown).")
    elif test.io_diff:
        got = test.actual.strip().splitlines()[:3]
        steps.append(
            f"The test \u201c{test.name}\u201d gives your program the input "
            f"{_shown(test.stdin)!r} and expects {_shown(test.expected)!r}."
            + (f" It reports: {_shown(' '.join(got), 200)}" if got else "")
        )
    else:
        steps.append(f"The test \u201c{test.name}\u201d fails"
                     + (f": {_shown(what, 200)}" if (what := _pytest_gist(test.actual))
                        else "."))
    steps.append(f"In that test your program runs line {line}: `{quoted}`.")
    if test is not None and test.visible and probes:
        values = ", ".join(f"{k} = {v}" for k, v in list(probes[0].items())[:5])
        if values:
            steps.append(f"The first time line {line} runs there, {values}.")
    steps.append(OPERATOR_STEP.get(operator) or CATEGORY_STEP.get(category,
                                                                   CATEGORY_STEP["other"]))
    if verification == VALIDATED:
        steps.append("We checked this by running the tests: changing only this line makes the "
                     "failing tests pass and keeps the others passing.")
    elif verification == PARTIAL:
        steps.append("We checked this by running the tests: changing this line makes some of "
                     "the failing tests pass; something else needs attention too.")
    return steps


def _written(code: str, repair: Repair) -> int:
    """How many lines ``repair`` writes that the submission does not already have there."""
    before = Counter(ln.strip() for ln in code.splitlines()[repair.line - 1: repair.last])
    written = 0
    for ln in repair.text.splitlines():
        if before[ln.strip()] > 0:
            before[ln.strip()] -= 1
        else:
            written += 1
    return written


def _feeds(code: str, lines: set[int]) -> dict[int, int]:
    """For each of ``lines``: how many of the others read a name it assigns. When one fix makes
    a value right where it is made and another compensates where it is used (``right =
    len(xs)`` and ``xs[right - 1]`` both pass), the place the value is made is the bug."""
    if len(lines) < 2:
        return {}
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return {}
    stores: dict[int, set[str]] = {}
    loads: dict[int, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.lineno in lines:
            into = stores if isinstance(node.ctx, ast.Store) else loads
            into.setdefault(node.lineno, set()).add(node.id)
    return {ln: sum(1 for other in lines if other != ln
                    and stores.get(ln, set()) & loads.get(other, set()))
            for ln in lines}


def decide(
    *,
    code: str,
    samples: Sequence[SampleVerdict | None],
    model_checks: Mapping[int, Checked],  # sample index -> its checked repair
    search_checks: Sequence[Checked],
    suspiciousness: Mapping[int, float],
    tests: Sequence[GroundingTest],  # failing tests, visible first
    probes_for: Any = None,  # callable(line, test name) -> probes, or None
) -> FeedbackVerdict:
    voters: list[_Voter] = []
    model_patches = set()
    for i, s in enumerate(samples):
        if s is None or s.line is None:
            continue
        checked = model_checks.get(i)
        level = LEVEL.get(checked.status, 0) if checked else 0
        voters.append(_Voter(s.line, level, s.category, "model", checked, s))
        if checked:
            model_patches.add((checked.repair.line, checked.repair.text))
    for c in search_checks:
        if c.status in LEVEL and (c.repair.line, c.repair.text) not in model_patches:
            voters.append(_Voter(c.repair.line, LEVEL[c.status], c.repair.category, "search", c))
    total = len(samples) + sum(1 for v in voters if v.origin == "search")
    detail = [{"line": v.line, "origin": v.origin, "category": v.category,
               "status": v.checked.status if v.checked else "unchecked",
               "repair": v.checked.repair.text if v.checked else ""} for v in voters]
    if not voters:
        return FeedbackVerdict(None, "other", UNVERIFIED, 0, total, "", "", "", "", "template",
                               "", 0, False, detail)
    by_line: dict[int, list[_Voter]] = {}
    for v in voters:
        by_line.setdefault(v.line, []).append(v)

    validated_lines = {ln for ln, vs in by_line.items() if any(v.level == 2 for v in vs)}
    feeds = _feeds(code, validated_lines)
    # A condition whose change only routes the tests around a branch that has a validated fix
    # of its own loses to that branch: the branch's fix is the more specific one.
    parents = control_parents(code) if len(validated_lines) > 1 else {}
    routes_around = {parents[ln] for ln in validated_lines if parents.get(ln) in validated_lines}

    def size(vs: list[_Voter]) -> int:
        """Lines the smallest validated repair of this line writes (a one-line fix beats a
        two-line rewrite that does the same)."""
        sizes = [_written(code, v.checked.repair) for v in vs if v.level == 2 and v.checked]
        return min(sizes) if sizes else 0

    def rank(item: tuple[int, list[_Voter]]) -> tuple[bool, int, bool, int, int, int, int,
                                                        float, int]:
        ln, vs = item
        return (ln in validated_lines, feeds.get(ln, 0), ln not in routes_around, -size(vs),
                sum(v.level == 2 for v in vs),
                sum(v.level == 1 for v in vs), sum(v.level == 0 for v in vs),
                suspiciousness.get(ln, 0.0), -ln)

    line, members = max(by_line.items(), key=rank)
    backed = [v for v in members if v.level > 0]
    verification = VALIDATED if any(v.level == 2 for v in members) else (
        PARTIAL if backed else UNVERIFIED)
    pool = [v for v in members if v.level == max(v.level for v in members)]
    category = Counter(v.category for v in pool).most_common(1)[0][0]
    best = max(backed, key=lambda v: (v.level, v.origin == "search", len(v.checked.fixed)
                                      if v.checked else 0)) if backed else None
    repair = best.checked.repair if best and best.checked else None
    fixed = set(best.checked.fixed) if best and best.checked else set()
    grounding = next((t for t in tests if t.name in fixed), None) if fixed else None
    grounding = grounding or (tests[0] if tests else None)
    probes = probes_for(line, grounding) if probes_for and grounding and grounding.visible else []
    model_text = next((v.sample for v in pool if v.origin == "model" and v.level > 0 and v.sample
                       and v.sample.steps), None)
    if model_text is not None and verification != UNVERIFIED:
        steps, hint, source = list(model_text.steps), model_text.hint, "model"
    else:
        steps = template_steps(line, code, category, grounding, probes or [], verification,
                               repair.operator if repair else "")
        hint, source = CATEGORY_HINT.get(category, CATEGORY_HINT["other"]), "template"
    all_repairs = [c.repair for c in [*model_checks.values(), *search_checks]]
    all_repairs += [Repair(s.line, s.repair, "model", s.category, "model") for s in samples
                    if s is not None and s.line and s.repair]
    explanation, removed = leak_guard("\n".join(steps), code, all_repairs)
    hint, removed_hint = leak_guard(hint, code, all_repairs)
    leaked = reproduces_repair(explanation + "\n" + hint, code, all_repairs)
    return FeedbackVerdict(
        line=line, category=category, verification=verification, votes=len(backed),
        voters=total, repair=repair.text if repair else "",
        repair_source=repair.source if repair else "", explanation=explanation, hint=hint,
        source=source, grounding=grounding.name if grounding and grounding.visible else "",
        removed=removed + removed_hint, leaked=leaked, voters_detail=detail,
    )
