"""Turn K model samples into one verdict: parse, clean, vote. Django-free, plain data only.

Theory of operation: every sample is parsed (tolerantly: models wrap JSON in prose and code
fences, or give up on JSON altogether) into a ``SampleVerdict``. Samples that name no line inside
the file are not votes. The votes are grouped by ``(line, category)``; the biggest group wins and
its share of *all* K samples is the agreement (an unparseable sample is a vote for nothing, so it
lowers confidence). Ties go to the group whose line the fault localization ranks higher. The
representative explanation is the winning group's sample whose text is closest to the others.
A cleanup pass strips code blocks and lines that look like a corrected version of the student's
code, so feedback explains without handing over the fix.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

CATEGORIES = (
    "off_by_one",
    "wrong_condition",
    "wrong_operator",
    "missing_case",
    "wrong_return",
    "infinite_loop",
    "other",
)
_CATEGORY_ALIASES = {
    "off-by-one": "off_by_one",
    "off by one": "off_by_one",
    "offbyone": "off_by_one",
    "condition": "wrong_condition",
    "operator": "wrong_operator",
    "missing case": "missing_case",
    "edge_case": "missing_case",
    "edge case": "missing_case",
    "return": "wrong_return",
    "infinite loop": "infinite_loop",
}
NEAR_COPY_RATIO = 0.8  # a text line this similar to a changed student line is a leaked fix


@dataclass
class SampleVerdict:
    line: int | None
    category: str
    failing_test: str = ""
    steps: list[str] = field(default_factory=list)
    hint: str = ""
    repair: str = ""  # the corrected text of ``line``: teacher-only, checked in the sandbox

    @property
    def text(self) -> str:
        return " ".join([*self.steps, self.hint]).strip()


@dataclass
class VoteResult:
    line: int | None
    category: str
    agreement: float  # share of all samples in the winning group, 0..1
    votes: int  # samples in the winning group
    samples: int  # K
    explanation: str
    hint: str
    failing_test: str
    removed: int  # code blocks / fix-like lines the cleanup removed, over all samples
    parsed: list[dict[str, Any] | None]  # one per sample, None where nothing could be parsed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalize_category(raw: Any) -> str:
    text = str(raw or "").strip().lower()
    if text in CATEGORIES:
        return text
    text = text.replace("-", "_")
    if text in CATEGORIES:
        return text
    for alias, category in _CATEGORY_ALIASES.items():
        if alias in str(raw or "").lower():
            return category
    return "other"


def extract_json(text: str) -> dict[str, Any] | None:
    """The first JSON object in ``text`` that parses, searching past prose and code fences.

    Reasoning models think first: a ``</think>`` marker ends the thinking, and only what follows
    it is searched when present.
    """
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        found = re.search(r"\d+", value)
        return int(found.group()) if found else None
    return None


def _as_repair(value: Any) -> str:
    if isinstance(value, list):
        value = "\n".join(str(v) for v in value)
    text = str(value or "").strip("\n")
    if text.strip().startswith("```"):
        text = re.sub(r"^\s*```[a-z]*\n?|\n?```\s*$", "", text)
    return text[:2000] if text.strip() else ""


def _as_steps(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(s).strip() for s in value if str(s).strip()][:10]
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    return []


def parse_sample(text: str, *, max_line: int) -> SampleVerdict | None:
    """Parse one sample; None when it names no line between 1 and ``max_line``.

    JSON first; without JSON, ``line 7`` in prose plus a category word still counts, since a
    small model often answers in prose.
    """
    data = extract_json(text)
    line: int | None
    if data is not None:
        line = _as_int(data.get("line"))
        category = normalize_category(data.get("category"))
        steps = _as_steps(data.get("steps") or data.get("explanation"))
        verdict = SampleVerdict(
            line=line,
            category=category,
            failing_test=str(data.get("failing_test") or "")[:300],
            steps=steps,
            hint=str(data.get("hint") or "").strip()[:1000],
            repair=_as_repair(data.get("repair") or data.get("fix")),
        )
    else:
        # Prose, or JSON cut off by max_new_tokens: '"line": 7', 'line 7', 'Line number: 7'.
        found = re.search(r'\bline"?\s*(?:number\s*)?[:=]?\s*(\d+)', text, re.IGNORECASE)
        line = int(found.group(1)) if found else None
        named = re.search(r'"category"\s*:\s*"([^"]*)"', text)
        category = normalize_category(named.group(1)) if named else "other"
        if not named:
            for name in CATEGORIES:
                if name in text or name.replace("_", " ") in text.lower():
                    category = name
                    break
        verdict = SampleVerdict(line=line, category=category, steps=_as_steps(text[:1000]))
    if verdict.line is None or not 1 <= verdict.line <= max_line:
        return None
    return verdict


def _code_lines(code: str) -> list[str]:
    return [ln.strip() for ln in code.splitlines() if len(ln.strip()) >= 6]


def clean_text(text: str, code: str) -> tuple[str, int]:
    """Remove code blocks and near-copies of student lines that differ from them (a fix).

    A line identical to a student line is a quote, allowed ("``return a - b`` subtracts");
    a line at least NEAR_COPY_RATIO similar but not identical is a rewritten line, removed.
    Returns the cleaned text and how many pieces were removed.
    """
    removed = 0

    def drop_block(_: re.Match[str]) -> str:
        nonlocal removed
        removed += 1
        return ""

    text = re.sub(r"```.*?(```|$)", drop_block, text, flags=re.DOTALL)
    student = _code_lines(code)
    kept: list[str] = []
    for raw in text.splitlines():
        candidate = raw.strip().strip("`").strip()
        is_fix = False
        if len(candidate) >= 6 and candidate not in student:
            for original in student:
                ratio = difflib.SequenceMatcher(None, candidate, original).ratio()
                if ratio >= NEAR_COPY_RATIO:
                    is_fix = True
                    break
        if is_fix:
            removed += 1
        else:
            kept.append(raw)
    return "\n".join(kept).strip(), removed


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def parse_samples(texts: Sequence[str], code: str) -> tuple[list[SampleVerdict | None], int]:
    """Parse every sample and clean its steps and hint (``clean_text``); also how many pieces
    the cleanup removed."""
    max_line = max(1, len(code.splitlines()))
    removed_total = 0
    verdicts: list[SampleVerdict | None] = []
    for text in texts:
        verdict = parse_sample(text, max_line=max_line)
        if verdict is not None:
            steps: list[str] = []
            for step in verdict.steps:
                cleaned, removed = clean_text(step, code)
                removed_total += removed
                if cleaned:
                    steps.append(cleaned)
            verdict.steps = steps
            verdict.hint, removed = clean_text(verdict.hint, code)
            removed_total += removed
        verdicts.append(verdict)
    return verdicts, removed_total


def vote(
    texts: Sequence[str],
    *,
    code: str,
    suspiciousness: Mapping[int, float] | None = None,
) -> VoteResult:
    """Vote over K raw sample texts for the student file ``code`` (on their word alone: the
    product's vote checks repairs first, ``verdict.decide``)."""
    scores = suspiciousness or {}
    verdicts, removed_total = parse_samples(texts, code)
    parsed = [asdict(v) if v is not None else None for v in verdicts]
    groups: dict[tuple[int, str], list[SampleVerdict]] = {}
    for v in verdicts:
        if v is not None and v.line is not None:
            groups.setdefault((v.line, v.category), []).append(v)
    if not groups:
        return VoteResult(None, "other", 0.0, 0, len(texts), "", "", "", removed_total, parsed)
    # Biggest group; then the higher fault-localization score; then the lower line (stable).
    (line, category), members = max(
        groups.items(), key=lambda kv: (len(kv[1]), scores.get(kv[0][0], 0.0), -kv[0][0])
    )
    if len(members) == 1:
        best = members[0]
    else:
        best = max(
            members,
            key=lambda m: sum(_similarity(m.text, o.text) for o in members if o is not m),
        )
    return VoteResult(
        line=line,
        category=category,
        agreement=len(members) / len(texts),
        votes=len(members),
        samples=len(texts),
        explanation="\n".join(best.steps),
        hint=best.hint,
        failing_test=best.failing_test,
        removed=removed_total,
        parsed=parsed,
    )
