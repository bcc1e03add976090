"""Measure feedback quality on the shipped corpus of buggy programs. Django-free.

Theory of operation: every corpus variant (a buggy program, its package, the line a teacher would
point at and the bug's category) is graded in the sandbox and its evidence (test outcomes plus
per-test line coverage) is built with the same functions ``manage.py grade --feedback`` uses. The
evidence is collected once per variant and shared by every method and run, so runs differ only
by the model's sampling. Three methods name a line:

- ``sbfl``: the top line of spectrum-based fault localization (Ochiai), no model;
- ``k1``: one model sample, voted alone (the first of the K samples: an independent sample from
  the same distribution as a separate one-sample call, at no extra cost on a CPU);
- ``vote``: all K samples, voted (``pipeline.explain_batch``, exactly as the product does).

Top-1 line accuracy is the share of (variant, run) pairs whose line equals the known bug line;
run-to-run agreement is the share of variants whose line is the same, and not None, in every run.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.feedback.coverage import io_test_coverage
from grader.feedback.engines import Engine, Sampling
from grader.feedback.pipeline import (
    FeedbackJob,
    evidence_from_outcomes,
    explain_batch,
    suspicious_lines,
)
from grader.feedback.voting import CATEGORIES, vote
from sandbox.grade import grade
from sandbox.package import load_package
from sandbox.types import Backend

DEFAULT_MANIFEST = (
    Path(__file__).resolve().parents[2] / "examples" / "feedback_corpus" / "manifest.toml"
)
METHODS = ("sbfl", "k1", "vote")


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


def prepare_case(variant: Variant, backend: Backend) -> Case:
    package = load_package(variant.package)
    code = variant.file.read_bytes()
    files = {package.submission: code}
    report = grade(package, files, backend)
    coverage = io_test_coverage(backend, package, files)
    evidence = evidence_from_outcomes(package, report.tests, coverage)
    job = FeedbackJob(package.description, code.decode("utf-8", errors="replace"), evidence)
    failed = sum(1 for t in report.tests if not t.passed) if report.gradable else len(report.tests)
    return Case(variant, job, failed, suspicious_lines(evidence, source=job.code))


@dataclass
class MethodScore:
    method: str
    # predictions[variant index][run] = (line, category)
    predictions: list[list[tuple[int | None, str]]] = field(default_factory=list)
    seconds: float = 0.0
    removed: int = 0  # code blocks / fix-like lines the cleanup removed, over all samples

    def accuracy(self, cases: list[Case]) -> float:
        pairs = [
            (line, case.variant.line)
            for case, runs in zip(cases, self.predictions, strict=True)
            for line, _ in runs
        ]
        return sum(1 for got, want in pairs if got == want) / len(pairs) if pairs else 0.0

    def category_accuracy(self, cases: list[Case]) -> float:
        pairs = [
            (got, case.variant)
            for case, runs in zip(cases, self.predictions, strict=True)
            for got in runs
        ]
        hits = sum(1 for (ln, cat), v in pairs if ln == v.line and cat == v.category)
        return hits / len(pairs) if pairs else 0.0

    def agreement(self) -> float:
        same = [
            runs[0][0] is not None and all(r[0] == runs[0][0] for r in runs)
            for runs in self.predictions
        ]
        return sum(same) / len(same) if same else 0.0


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
        labels = {"sbfl": "fault localization (SBFL top line)", "k1": "model, K=1"}
        labels["vote"] = f"model, K={self.samples} with voting"
        return [
            {
                "method": m,
                "label": labels[m],
                "line_accuracy": round(s.accuracy(self.cases), 4),
                "line_and_category_accuracy": round(s.category_accuracy(self.cases), 4)
                if m != "sbfl"
                else None,
                "run_agreement": round(s.agreement(), 4),
                "removed": s.removed if m != "sbfl" else None,
                # K=1 is the first sample of the K-sample call: it has no time of its own.
                "seconds": round(s.seconds, 2) if m != "k1" else None,
            }
            for m, s in self.scores.items()
        ]

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
                    "bug_line": c.variant.line,
                    "category": c.variant.category,
                    "failed_tests": c.failed_tests,
                    "suspicious": c.suspicious,
                    **{m: s.predictions[i] for m, s in self.scores.items()},
                }
                for i, c in enumerate(self.cases)
            ],
        }


Progress = Callable[[str], None]


def evaluate(
    variants: list[Variant],
    *,
    backend: Backend,
    engine: Engine | None,
    samples: int,
    runs: int,
    sampling: Sampling,
    progress: Progress | None = None,
) -> Evaluation:
    """Grade every variant, then score SBFL and (with an engine) K=1 and K-sample voting.

    ``progress`` is called once per finished step (a variant prepared, a variant explained in
    one run), so a caller can drive a progress bar of ``len(variants) * (1 + runs)`` steps
    (``len(variants)`` without an engine).
    """
    tick = progress or (lambda _: None)
    started = time.monotonic()
    cases = []
    for v in variants:
        cases.append(prepare_case(v, backend))
        tick(f"graded {v.name}")
    prepare_seconds = time.monotonic() - started
    sbfl = MethodScore("sbfl", seconds=prepare_seconds)
    for case in cases:
        top = case.suspicious[0][0] if case.suspicious else None
        # SBFL is deterministic: one computation stands for every run.
        sbfl.predictions.append([(top, "")] * runs)
    scores = {"sbfl": sbfl}
    tokens_per_second = 0.0
    if engine is not None:
        k1, voted = MethodScore("k1"), MethodScore("vote")
        k1.predictions = [[] for _ in cases]
        voted.predictions = [[] for _ in cases]
        tokens_before, seconds_before = engine.stats.new_tokens, engine.stats.seconds
        for run in range(runs):
            for i, case in enumerate(cases):
                t0 = time.monotonic()
                [explanation] = explain_batch(
                    [case.job], engine=engine, samples=samples, sampling=sampling
                )
                voted.seconds += time.monotonic() - t0
                result = explanation.result
                voted.predictions[i].append((result.line, result.category))
                voted.removed += result.removed
                first = vote(
                    explanation.texts[:1],
                    code=case.job.code,
                    suspiciousness=dict(explanation.suspicious),
                )
                k1.predictions[i].append((first.line, first.category))
                k1.removed += first.removed
                tick(f"run {run + 1}: explained {case.variant.name}")
        new_tokens = engine.stats.new_tokens - tokens_before
        gen_seconds = engine.stats.seconds - seconds_before
        tokens_per_second = new_tokens / gen_seconds if gen_seconds else 0.0
        scores |= {"k1": k1, "vote": voted}
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
