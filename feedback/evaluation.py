"""Measure feedback quality on the shipped corpus of buggy programs. Django-free.

Theory of operation: every corpus variant (a buggy program, its package, the lines a teacher
would point at and the bug's category) is graded in the sandbox and its evidence (test outcomes
plus per-test line coverage from traced runs) is built with the same functions
``manage.py grade --feedback`` and the feedback worker use. The evidence is collected once per
variant; the repair checks run again in every run. Four methods name a line:

- ``sbfl``: the top line of spectrum-based fault localization (Ochiai), no model;
- ``search``: the mutation search over the suspicious lines, every candidate checked in the
  sandbox, voted (``pipeline.explain_batch`` without an engine: the CPU default);
- ``model``: the K model samples voted on their word alone, nothing checked;
- ``vote``: model samples and search candidates, all checked, one validated vote (the product
  with an engine).

Top-1 is the share of (variant, run) pairs whose line is one of the variant's bug lines;
coverage is the share with a checked (validated or partial) explanation, precision the share of
those that name a bug line; run-to-run agreement is the share of variants whose line is the same,
and not None, in every run (``same_outcome`` also counts "no line" given in every run); the
leak rate is the share of final explanations that spell out a checked repair or the reference
solution's line.
"""

from __future__ import annotations

import difflib
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feedback.engines import Engine, Sampling
from feedback.pipeline import (
    Explanation,
    FeedbackJob,
    evidence_from_outcomes,
    explain_batch,
    sandbox_job,
    suspicious_lines,
)
from feedback.repair import Repair
from feedback.validation import PARTIAL, VALIDATED, Budget
from feedback.verdict import UNVERIFIED, reproduces_repair
from feedback.voting import CATEGORIES
from feedback.voting import vote as model_vote
from sandbox.evidence import collect_traces
from sandbox.grade import grade
from sandbox.package import load_package
from sandbox.types import Backend

DEFAULT_MANIFEST = (
    Path(__file__).resolve().parents[1] / "examples" / "feedback_corpus" / "manifest.toml"
)
METHODS = ("sbfl", "search", "model", "vote")
CHECKED = (VALIDATED, PARTIAL)


class CorpusError(ValueError):
    """The manifest or a file it names is missing or malformed."""


@dataclass(frozen=True)
class Variant:
    file: Path
    package: Path
    lines: tuple[int, ...]  # every line a teacher may point at; the first is the primary one
    category: str

    @property
    def line(self) -> int:
        """The primary bug line."""
        return self.lines[0]

    @property
    def name(self) -> str:
        return f"{self.package.name}/{self.file.name}"


def load_manifest(path: Path = DEFAULT_MANIFEST) -> list[Variant]:
    """The variants of a manifest (``[[variants]]`` with file, package, line, category); files
    are relative to the manifest, packages live in its ``packages/`` folder. ``line`` is a line
    number or a non-empty list of them (two bugs, or the lines around a missing statement), the
    primary line first."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"cannot read manifest {path}: {exc}") from exc
    root = path.parent
    variants = []
    for i, raw in enumerate(data.get("variants", [])):
        where = f"{path}: variants[{i}]"
        if not isinstance(raw, dict) or set(raw) != {"file", "package", "line", "category"}:
            raise CorpusError(f"{where} needs exactly file, package, line, category")
        file, package = root / str(raw["file"]), root / "packages" / str(raw["package"])
        if not file.is_file():
            raise CorpusError(f"{where}: no such file {file}")
        if not (package / "assignment.toml").is_file():
            raise CorpusError(f"{where}: no package {package}")
        line, category = raw["line"], raw["category"]
        lines = line if isinstance(line, list) else [line]
        if not lines:
            raise CorpusError(f"{where}: line [] names no line of {file.name}")
        n_lines = len(file.read_text(encoding="utf-8").splitlines())
        for number in lines:
            ok = isinstance(number, int) and not isinstance(number, bool)
            if not ok or not 1 <= number <= n_lines:
                raise CorpusError(f"{where}: line {number!r} is not a line of {file.name}")
        if len(set(lines)) != len(lines):
            raise CorpusError(f"{where}: line {line!r} names a line twice")
        if category not in CATEGORIES:
            raise CorpusError(f"{where}: category {category!r} not in {CATEGORIES}")
        variants.append(Variant(file, package, tuple(lines), category))
    if not variants:
        raise CorpusError(f"{path}: no [[variants]]")
    return variants


def spread(variants: list[Variant], limit: int) -> list[Variant]:
    """``limit`` variants taken round-robin across packages (all when ``limit`` <= 0), so a
    small subset still covers every assignment."""
    if limit <= 0:
        return variants
    by_package: dict[Path, list[Variant]] = {}
    for v in variants:
        by_package.setdefault(v.package, []).append(v)
    queues = list(by_package.values())
    picked: list[Variant] = []
    depth = 0
    while len(picked) < min(limit, len(variants)):
        picked += [q[depth] for q in queues if depth < len(q)][: limit - len(picked)]
        depth += 1
    return picked


@dataclass
class Case:
    """A graded variant and the evidence the product would build for it."""

    variant: Variant
    job: FeedbackJob
    failed_tests: int
    suspicious: list[tuple[int, float]]
    true_fixes: list[Repair]  # the reference solution's lines where the variant differs


def _true_fixes(code: str, solution: Path) -> list[Repair]:
    """Where the variant differs from the reference solution: the solution's text for each
    changed line (what a leak would spell out)."""
    if not solution.is_file():
        return []
    ours, theirs = code.splitlines(), solution.read_text(encoding="utf-8").splitlines()
    fixes = []
    matcher = difflib.SequenceMatcher(None, ours, theirs)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace":
            for k in range(i2 - i1):
                if j1 + k < j2:
                    fixes.append(Repair(i1 + k + 1, theirs[j1 + k], "solution", "other"))
    return fixes


def prepare_case(variant: Variant, backend: Backend, budget: Budget | None = None) -> Case:
    package = load_package(variant.package)
    code = variant.file.read_bytes()
    files = {package.submission: code}
    report = grade(package, files, backend)
    traces = collect_traces(backend, package, files)
    evidence = evidence_from_outcomes(package, report.tests, traces)
    job = sandbox_job(backend=backend, package=package, files=files,
                      assignment=package.description, evidence=evidence,
                      budget=budget or Budget())
    failed = sum(1 for t in report.tests if not t.passed) if report.gradable else len(report.tests)
    solution = variant.package.parent.parent / "solutions" / f"{variant.package.name}.py"
    text = code.decode("utf-8", errors="replace")
    return Case(variant, job, failed, suspicious_lines(evidence, source=job.code),
                _true_fixes(text, solution))


@dataclass
class Prediction:
    line: int | None
    category: str = ""
    verification: str = UNVERIFIED
    leaked: bool = False
    seconds: float = 0.0
    source: str = ""


@dataclass
class MethodScore:
    method: str
    predictions: list[list[Prediction]] = field(default_factory=list)  # [variant][run]

    def _pairs(self, cases: list[Case]) -> list[tuple[Prediction, Variant]]:
        return [(p, c.variant) for c, runs in zip(cases, self.predictions, strict=True)
                for p in runs]

    def accuracy(self, cases: list[Case]) -> float:
        pairs = self._pairs(cases)
        return sum(1 for p, v in pairs if p.line in v.lines) / len(pairs) if pairs else 0.0

    def category_accuracy(self, cases: list[Case]) -> float:
        pairs = self._pairs(cases)
        hits = sum(1 for p, v in pairs if p.line in v.lines and p.category == v.category)
        return hits / len(pairs) if pairs else 0.0

    def coverage(self, cases: list[Case]) -> float:
        """Share of explanations that were checked in the sandbox (validated or partial)."""
        pairs = self._pairs(cases)
        return sum(1 for p, _ in pairs if p.verification in CHECKED) / len(pairs) if pairs else 0

    def precision(self, cases: list[Case]) -> float | None:
        """Of the checked explanations, the share that name a true bug line."""
        checked = [(p, v) for p, v in self._pairs(cases) if p.verification in CHECKED]
        return sum(1 for p, v in checked if p.line in v.lines) / len(checked) if checked else None

    def leak_rate(self) -> float:
        flat = [p for runs in self.predictions for p in runs]
        return sum(1 for p in flat if p.leaked) / len(flat) if flat else 0.0

    def seconds(self) -> float:
        flat = [p for runs in self.predictions for p in runs]
        return sum(p.seconds for p in flat) / len(flat) if flat else 0.0

    def agreement(self) -> float:
        same = [runs[0].line is not None and all(r.line == runs[0].line for r in runs)
                for runs in self.predictions]
        return sum(same) / len(same) if same else 0.0

    def same_outcome(self) -> float:
        """Share of variants whose every run gives the same line and verification, "no line,
        unverified" included: how stable the answer is, apart from whether there is one."""
        same = [all((r.line, r.verification) == (runs[0].line, runs[0].verification)
                    for r in runs) for runs in self.predictions]
        return sum(same) / len(same) if same else 0.0


LABELS = {
    "sbfl": "fault localization alone (SBFL top line)",
    "search": "repair search alone, checked in the sandbox",
    "model": "model alone, K samples voted (unchecked)",
    "vote": "validated vote (model samples + search, checked)",
}


@dataclass
class Evaluation:
    cases: list[Case]
    scores: dict[str, MethodScore]
    runs: int
    samples: int
    max_new_tokens: int
    engine: str
    prepare_seconds: float
    tokens_per_second: float = 0.0

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for m, s in self.scores.items():
            checked = m in ("search", "vote")
            precision = s.precision(self.cases) if checked else None
            rows.append({
                "method": m,
                "label": LABELS[m],
                "top1_line": round(s.accuracy(self.cases), 4),
                "line_and_category": round(s.category_accuracy(self.cases), 4)
                if m != "sbfl" else None,
                "coverage": round(s.coverage(self.cases), 4) if checked else None,
                "precision": round(precision, 4) if precision is not None else None,
                "run_agreement": round(s.agreement(), 4),
                "same_outcome": round(s.same_outcome(), 4),
                "leak_rate": round(s.leak_rate(), 4) if m != "sbfl" else None,
                "seconds_per_submission": round(s.seconds(), 2) if m != "sbfl" else None,
            })
        return rows

    def as_json(self) -> dict[str, Any]:
        return {
            "variants": len(self.cases),
            "runs": self.runs,
            "samples": self.samples,
            "max_new_tokens": self.max_new_tokens,
            "engine": self.engine,
            "prepare_seconds": round(self.prepare_seconds, 2),
            "tokens_per_second": round(self.tokens_per_second, 2),
            "methods": self.rows(),
            "cases": [
                {
                    "variant": c.variant.name,
                    "bug_lines": list(c.variant.lines),
                    "category": c.variant.category,
                    "failed_tests": c.failed_tests,
                    "suspicious": c.suspicious,
                    **{m: [[p.line, p.verification, *(["leaked"] if p.leaked else [])]
                           for p in s.predictions[i]]
                       for m, s in self.scores.items()},
                }
                for i, c in enumerate(self.cases)
            ],
        }


Progress = Callable[[str], None]


def _leaked(text: str, case: Case, checks: list[Repair]) -> bool:
    return reproduces_repair(text, case.job.code, [*case.true_fixes, *checks])


def _predict(case: Case, explanation: Explanation, seconds: float) -> Prediction:
    v = explanation.verdict
    repairs = [c.repair for c in explanation.checks]
    return Prediction(v.line, v.category, v.verification,
                      _leaked(v.explanation + "\n" + v.hint, case, repairs), seconds, v.source)


def evaluate(
    variants: list[Variant],
    *,
    backend: Backend,
    engine: Engine | None,
    samples: int,
    runs: int,
    sampling: Sampling,
    progress: Progress | None = None,
    budget: Budget | None = None,
) -> Evaluation:
    """Grade every variant, then score SBFL, the checked repair search and, with an engine,
    the model alone and the validated vote (model + search), each ``runs`` times.

    ``progress`` is called once per finished step (a variant prepared, a variant explained in
    one run), so a caller can drive a progress bar of ``len(variants) * (1 + runs)`` steps.
    """
    tick = progress or (lambda _: None)
    started = time.monotonic()
    cases = []
    for v in variants:
        cases.append(prepare_case(v, backend, budget))
        tick(f"graded {v.name}")
    prepare_seconds = time.monotonic() - started
    sbfl = MethodScore("sbfl")
    for case in cases:
        top = case.suspicious[0][0] if case.suspicious else None
        sbfl.predictions.append([Prediction(top)] * runs)  # deterministic: one stands for all
    scores = {"sbfl": sbfl, "search": MethodScore("search")}
    if engine is not None:
        scores |= {"model": MethodScore("model"), "vote": MethodScore("vote")}
    for score in scores.values():
        if score.method != "sbfl":
            score.predictions = [[] for _ in cases]
    tokens_before, seconds_before = (engine.stats.new_tokens, engine.stats.seconds) if engine \
        else (0, 0.0)
    for run in range(runs):
        for i, case in enumerate(cases):
            if case.job.validator is not None:
                case.job.validator.runs = 0
            t0 = time.monotonic()
            [searched] = explain_batch([case.job], engine=None, samples=0, sampling=sampling)
            scores["search"].predictions[i].append(_predict(case, searched,
                                                            time.monotonic() - t0))
            if engine is not None:
                t0 = time.monotonic()
                [both] = explain_batch([case.job], engine=engine, samples=samples,
                                       sampling=sampling)
                scores["vote"].predictions[i].append(_predict(case, both, time.monotonic() - t0))
                alone = model_vote(both.texts, code=case.job.code,
                                   suspiciousness=dict(both.suspicious))
                scores["model"].predictions[i].append(Prediction(
                    alone.line, alone.category, UNVERIFIED,
                    _leaked(alone.explanation + "\n" + alone.hint, case,
                            [c.repair for c in both.checks]), 0.0, "model"))
            tick(f"run {run + 1}: explained {case.variant.name}")
    tokens_per_second = 0.0
    if engine is not None:
        new_tokens = engine.stats.new_tokens - tokens_before
        gen_seconds = engine.stats.seconds - seconds_before
        tokens_per_second = new_tokens / gen_seconds if gen_seconds else 0.0
    return Evaluation(
        cases=cases,
        scores=scores,
        runs=runs,
        samples=samples,
        max_new_tokens=sampling.max_new_tokens,
        engine=f"{engine.name}:{Path(engine.model).name}" if engine else "none",
        prepare_seconds=prepare_seconds,
        tokens_per_second=tokens_per_second,
    )
