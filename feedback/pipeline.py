"""From graded evidence to a checked explanation, for a list of submissions. Django-free.

Used by the Celery task, ``manage.py grade --feedback`` and ``manage.py evaluate_feedback``, so
the three compute feedback the same way:

1. suspicious lines from per-test coverage (SBFL, ``sbfl.py``);
2. K model samples per submission, the prompts of all jobs given in ONE engine call (each
   sample names a line and proposes the corrected text of that line). ``evaluate_feedback`` and
   the bench pass many jobs; the product's feedback task passes one, so batching across a class
   happens in the model server, not here: the GPU deployment's feedback worker
   (docker-compose.yml) runs 32 tasks in threads against ``vllm serve``, whose continuous
   batching merges every request in flight;
3. candidate repairs: the samples' own plus a bounded mutation search over the suspicious lines
   (``repair.py``);
4. every candidate checked by running the failing tests, then the passing ones, in the sandbox
   (``validation.py``);
5. one verdict from validated votes, an explanation grounded in one failing test, the leak
   guard (``verdict.py``).

Without a sandbox validator (a job built where nothing may run student code) step 4 is skipped
and every result is unverified.
"""

from __future__ import annotations

import time
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from feedback.engines import Engine, Sampling
from feedback.prompt import SYSTEM_PROMPT, TestEvidence, build_prompt
from feedback.repair import Repair, model_repair, search_candidates
from feedback.sbfl import is_structural, ochiai, ranked
from feedback.statements import with_control_parents
from feedback.validation import Budget, Checked, SandboxValidator
from feedback.verdict import FeedbackVerdict, GroundingTest, decide
from feedback.voting import parse_samples
from sandbox.evidence import TestKey, Trace, collect_traces, match_traces
from sandbox.outcome import TestOutcome
from sandbox.package import AssignmentPackage
from sandbox.testtypes import TRACED_TYPES, io_diff
from sandbox.types import Backend

ANSWER_PREFIX = '{"line": '
SEARCH_LINES = 8  # suspicious lines the mutation search visits, most suspicious first


@dataclass
class FeedbackJob:
    assignment: str
    code: str
    evidence: list[TestEvidence]
    validator: SandboxValidator | None = None
    # (line, grounding test) -> the values of the line's names when it first runs in that test
    probes_for: Callable[[int, GroundingTest], list[dict[str, str]]] | None = None
    system_prompt: str = SYSTEM_PROMPT


@dataclass
class Explanation:
    verdict: FeedbackVerdict
    suspicious: list[tuple[int, float]]
    prompt: str
    texts: list[str] = field(default_factory=list)
    parsed: list[dict[str, Any] | None] = field(default_factory=list)
    checks: list[Checked] = field(default_factory=list)
    runs: int = 0
    seconds: float = 0.0

    def as_json(self, *, staff: bool = True) -> dict[str, Any]:
        """The shape ``manage.py grade --feedback`` prints (``line`` 1-based, None if unknown).
        The repair and the candidates are staff-only."""
        v = self.verdict
        data: dict[str, Any] = {
            "line": v.line,
            "category": v.category,
            "verification": v.verification,
            "explanation": v.explanation,
            "hint": v.hint,
            "explanation_source": v.source,
            "grounded_in": v.grounding,
            "confidence": round(v.agreement, 3),
            "agreement": f"{v.votes}/{v.voters}",
        }
        if staff:
            data["repair"] = v.repair
            data["repair_source"] = v.repair_source
            data["candidates_checked"] = len(self.checks)
            data["sandbox_runs"] = self.runs
        return data


def suspicious_lines(
    evidence: list[TestEvidence], *, top: int = 5, source: str | None = None
) -> list[tuple[int, float]]:
    spectra = [(t.covered, t.passed) for t in evidence if t.covered is not None]
    return ranked(ochiai(spectra), top=top, source=source)


def evidence_from_outcomes(
    package: AssignmentPackage,
    outcomes: list[TestOutcome],
    traces: list[tuple[TestKey, Trace | None]],
) -> list[TestEvidence]:
    """One ``TestEvidence`` per graded outcome, matched in order with the traced runs; io tests
    get their stdin and expected output."""
    return build_evidence(package, [(o.kind, o.name, o.passed, o.visibility == "visible",
                                     o.output) for o in outcomes], traces)


def build_evidence(
    package: AssignmentPackage,
    results: list[tuple[str, str, bool, bool, str]],  # (kind, name, passed, visible, output)
    traces: list[tuple[TestKey, Trace | None]],
) -> list[TestEvidence]:
    paired = match_traces([(kind, name) for kind, name, *_ in results], traces)
    evidence = []
    for (kind, name, passed, visible, output), (key, trace) in zip(results, paired, strict=True):
        spec = package.tests[key.spec] if key is not None and io_diff(key.kind) else None
        evidence.append(TestEvidence(
            name=name, passed=passed, visible=visible,
            stdin=spec.stdin if spec else "", expected=spec.expected_stdout if spec else "",
            actual=output, covered=set(trace.covered) if trace else None, key=key, kind=kind,
        ))
    return evidence


def _names_on_line(code: str, line: int) -> tuple[str, ...]:
    import io
    import keyword

    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return ()
    names = [t.string for t in tokens if t.type == tokenize.NAME and t.start[0] == line
             and not keyword.iskeyword(t.string)]
    return tuple(dict.fromkeys(names))[:6]


def sandbox_job(*, backend: Backend, package: AssignmentPackage, files: dict[str, bytes],
                assignment: str, evidence: list[TestEvidence], budget: Budget,
                system_prompt: str = SYSTEM_PROMPT) -> FeedbackJob:
    """A job whose repairs are checked in ``backend`` (the worker's sandbox)."""
    code = files.get(package.submission, b"").decode("utf-8", errors="replace")
    failing = sorted((t for t in evidence if not t.passed and t.key), key=lambda t: not t.visible)
    passing = [t for t in evidence if t.passed and t.key]
    validator = None
    if package.language == "python" and package.submission in files and failing:
        validator = SandboxValidator(backend, package, files,
                                     [t.key for t in failing if t.key],
                                     [t.key for t in passing if t.key], budget)
    keys = {t.name: t.key for t in evidence if t.key}

    def probes_for(line: int, test: GroundingTest) -> list[dict[str, str]]:
        key = keys.get(test.name)
        if key is None:
            return []
        traced = collect_traces(backend, package, files, probe_line=line,
                                probe_names=_names_on_line(code, line), only={key})
        return next((t.probes for k, t in traced if k == key and t is not None), [])

    return FeedbackJob(assignment, code, evidence, validator, probes_for, system_prompt)


def _search_lines(job: FeedbackJob, suspicious: list[tuple[int, float]]) -> list[int]:
    lines = [ln for ln, _ in suspicious]
    if not lines:  # no coverage (not Python, or traces lost): every statement, top to bottom
        lines = [i + 1 for i, text in enumerate(job.code.splitlines()) if not is_structural(text)]
    return with_control_parents(job.code, lines[:SEARCH_LINES])[:SEARCH_LINES + 2]


def _looping(evidence: list[TestEvidence]) -> bool:
    """A failing test lost its trace while others kept theirs: its run was killed before it
    could write one (a loop that does not end, most often)."""
    return any(t.covered is not None for t in evidence) and any(
        not t.passed and t.covered is None and t.kind in TRACED_TYPES for t in evidence)


def explain_batch(
    jobs: list[FeedbackJob],
    *,
    engine: Engine | None,
    samples: int,
    sampling: Sampling,
    search: bool = True,
) -> list[Explanation]:
    """Explain every job: model samples for all jobs in ONE engine call (none without an engine
    or with ``samples`` 0), then per job the repair search, the sandbox checks and the vote."""
    from dataclasses import asdict

    prepared = []
    for job in jobs:
        suspicious = suspicious_lines(job.evidence, top=SEARCH_LINES, source=job.code)
        prompt = build_prompt(assignment=job.assignment, code=job.code, evidence=job.evidence,
                              suspicious=suspicious[:5], system_prompt=job.system_prompt)
        prepared.append((job, suspicious, prompt))
    outputs: list[list[str]] = [[] for _ in jobs]
    if engine is not None and samples > 0 and jobs:
        if engine.needs_answer_prefix and not sampling.prefix:
            sampling = replace(sampling, prefix=ANSWER_PREFIX)  # small CPU models need the nudge
        outputs = engine.generate([p for _, _, p in prepared], samples, sampling)
    explanations = []
    for (job, suspicious, prompt), texts in zip(prepared, outputs, strict=True):
        started = time.monotonic()
        verdicts, _ = parse_samples(list(texts), job.code)
        model_repairs: dict[int, Repair] = {}
        for i, v in enumerate(verdicts):
            if v is not None and v.line is not None and v.repair:
                found = model_repair(job.code, v.line, v.repair, v.category)
                if found is not None:
                    model_repairs[i] = found
        candidates: list[Repair] = list(dict.fromkeys(model_repairs.values()))
        if search and job.validator is not None:
            budget = job.validator.budget.max_candidates
            room = max(0, budget - len(candidates))
            seen = {(r.line, r.text) for r in candidates}
            candidates += [r for r in search_candidates(job.code, _search_lines(job, suspicious),
                                                        limit=room + len(seen),
                                                        looping=_looping(job.evidence))
                           if (r.line, r.text) not in seen][:room]
        checks: list[Checked] = job.validator.check(candidates) if job.validator else []
        by_repair = {c.repair: c for c in checks}
        model_checks = {i: by_repair[r] for i, r in model_repairs.items() if r in by_repair}
        search_checks = [c for c in checks if c.repair.source == "search"]
        failing = sorted((t for t in job.evidence if not t.passed), key=lambda t: not t.visible)
        tests = [GroundingTest(t.name, t.visible, t.stdin, t.expected, t.actual, io_diff(t.kind))
                 for t in failing]
        verdict = decide(code=job.code, samples=verdicts, model_checks=model_checks,
                         search_checks=search_checks, suspiciousness=dict(suspicious),
                         tests=tests, probes_for=job.probes_for)
        explanations.append(Explanation(
            verdict, suspicious, prompt, list(texts),
            [asdict(v) if v is not None else None for v in verdicts], checks,
            job.validator.runs if job.validator else 0, time.monotonic() - started,
        ))
    return explanations
