"""The prompt: assignment, numbered code, failing-test evidence, suspicious lines. Django-free.

Hidden tests are evidence for localization (their coverage counts) but their input, expected and
actual output never enter the prompt: the explanation reaches the student.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from feedback.voting import CATEGORIES
from sandbox.evidence import TestKey

SYSTEM_PROMPT = (
    "You are a teaching assistant for an introductory programming course. A student's program "
    "fails some tests. Find the one line with the logic bug and explain, step by step, what goes "
    "wrong on the failing test. Never put corrected code in the steps or the hint; put the "
    "corrected line only in the repair field, which the student never sees."
)
MAX_CODE_LINES = 80
MAX_FIELD_CHARS = 400


@dataclass
class TestEvidence:
    name: str
    passed: bool
    visible: bool = True
    stdin: str = ""
    expected: str = ""
    actual: str = ""  # the stored output of the test (the checker's message or the traceback)
    covered: set[int] | None = field(default=None)
    key: TestKey | None = None  # the spec it came from, to run it again (None: cannot)
    kind: str = "io"

    __test__ = False


def _cut(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + " …"


def numbered_code(code: str, focus: list[int], *, max_lines: int = MAX_CODE_LINES) -> str:
    """The code with 1-based line numbers; a long file is cut to a window around ``focus``."""
    lines = code.splitlines()
    if len(lines) <= max_lines:
        start, end = 0, len(lines)
    else:
        center = focus[0] - 1 if focus else 0
        start = max(0, min(center - max_lines // 2, len(lines) - max_lines))
        end = start + max_lines
    width = len(str(end))
    out = [f"{i + 1:>{width}} | {lines[i]}" for i in range(start, end)]
    if start > 0:
        out.insert(0, f"... ({start} lines above not shown)")
    if end < len(lines):
        out.append(f"... ({len(lines) - end} lines below not shown)")
    return "\n".join(out)


def build_prompt(
    *,
    assignment: str,
    code: str,
    evidence: list[TestEvidence],
    suspicious: list[tuple[int, float]],
    max_code_lines: int = MAX_CODE_LINES,
    system_prompt: str = SYSTEM_PROMPT,
) -> str:
    failing = sorted((t for t in evidence if not t.passed), key=lambda t: not t.visible)
    parts = [system_prompt.strip() or SYSTEM_PROMPT, "", "Assignment:",
             _cut(assignment.strip(), 1500) or "(none)", ""]
    parts += [
        "Student code:",
        numbered_code(code, [ln for ln, _ in suspicious], max_lines=max_code_lines),
        "",
    ]
    parts.append("Failing tests:")
    for t in failing[:3]:
        if t.visible:
            parts.append(f"- {t.name}")
            if t.stdin:
                parts.append(f"  input: {_cut(t.stdin)!r}")
            if t.expected:
                parts.append(f"  expected output: {_cut(t.expected)!r}")
            if t.actual:
                parts.append(f"  result: {_cut(t.actual)}")
        else:
            # Neither the name nor the id of a hidden test: parametrize ids carry its values.
            parts.append("- a hidden test (its name, input and output are not shown)")
    if len(failing) > 3:
        parts.append(f"- and {len(failing) - 3} more")
    if suspicious:
        ranked = ", ".join(f"line {ln} ({score:.2f})" for ln, score in suspicious)
        parts += ["", f"Suspicious lines (fault localization, most suspicious first): {ranked}"]
    parts += [
        "",
        "Answer with one JSON object only:",
        '{"line": <line number>, "category": "<one of: ' + ", ".join(CATEGORIES) + '>", '
        '"failing_test": "<test name>", "steps": ["<step>", "..."], "hint": "<hint, no code>", '
        '"repair": "<the corrected text of that line, for the teacher only>"}',
    ]
    return "\n".join(parts)
