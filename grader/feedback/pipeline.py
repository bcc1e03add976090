"""From evidence to a voted explanation, for many submissions in one generate call. Django-free.

Used by the Celery task, ``manage.py grade --feedback`` and ``manage.py evaluate_feedback``, so
the three compute feedback the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from grader.feedback.engines import Engine, Sampling
from grader.feedback.prompt import TestEvidence, build_prompt
from grader.feedback.sbfl import ochiai, ranked
from grader.feedback.voting import VoteResult, vote
from sandbox.outcome import TestOutcome
from sandbox.package import AssignmentPackage

ANSWER_PREFIX = '{"line": '


@dataclass
class FeedbackJob:
    assignment: str
    code: str
    evidence: list[TestEvidence]


@dataclass
class Explanation:
    result: VoteResult
    suspicious: list[tuple[int, float]]
    prompt: str
    texts: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The shape ``manage.py grade --feedback`` prints (``line`` 1-based, None if unknown)."""
        r = self.result
        return {
            "line": r.line,
            "category": r.category,
            "explanation": r.explanation,
            "hint": r.hint,
            "confidence": round(r.agreement, 3),
            "samples": r.samples,
            "agreement": f"{r.votes}/{r.samples}",
        }


def suspicious_lines(
    evidence: list[TestEvidence], *, top: int = 5, source: str | None = None
) -> list[tuple[int, float]]:
    spectra = [(t.covered, t.passed) for t in evidence if t.covered is not None]
    return ranked(ochiai(spectra), top=top, source=source)


def evidence_from_outcomes(
    package: AssignmentPackage,
    outcomes: list[TestOutcome],
    coverage: dict[str, set[int]],
) -> list[TestEvidence]:
    """One ``TestEvidence`` per test outcome; io tests get their stdin and expected output."""
    io_specs = {t.name: t for t in package.tests if t.type == "io"}
    evidence = []
    for o in outcomes:
        spec = io_specs.get(o.name) if o.kind == "io" else None
        evidence.append(
            TestEvidence(
                name=o.name,
                passed=o.passed,
                visible=o.visibility == "visible",
                stdin=spec.stdin if spec else "",
                expected=spec.expected_stdout if spec else "",
                actual=o.output,
                covered=coverage.get(o.name) if spec else None,
            )
        )
    return evidence


def explain_batch(
    jobs: list[FeedbackJob], *, engine: Engine, samples: int, sampling: Sampling
) -> list[Explanation]:
    """Build every job's prompt, generate ``samples`` completions each in ONE engine call (the
    vLLM engine batches across submissions), and vote."""
    prepared = []
    for job in jobs:
        suspicious = suspicious_lines(job.evidence, source=job.code)
        prompt = build_prompt(
            assignment=job.assignment, code=job.code, evidence=job.evidence, suspicious=suspicious
        )
        prepared.append((job, suspicious, prompt))
    if engine.name == "transformers" and not sampling.prefix:
        sampling = replace(sampling, prefix=ANSWER_PREFIX)  # small CPU models need the nudge
    outputs = engine.generate([p for _, _, p in prepared], samples, sampling) if jobs else []
    explanations = []
    for (job, suspicious, prompt), texts in zip(prepared, outputs, strict=True):
        result = vote(texts, code=job.code, suspiciousness=dict(suspicious))
        explanations.append(Explanation(result, suspicious, prompt, list(texts)))
    return explanations
