"""Grade one submission against one assignment package: build, run every test, score.

Used by both the one-shot CLI and the Celery worker, so a result from the command line and one
from the web are computed by the same code. Student failures become verdicts; only a broken
sandbox raises (``SandboxError``), which callers treat as an infrastructure failure.

Three outcomes, then: a score (``ungradable`` is None; a compile error is a score of 0 with
``gradable`` False); "could not be graded" (``ungradable`` says whose fault and why: the
teacher's package or our harness failed, so there is no score and no attempt is used); or
``SandboxError``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sandbox import fstree
from sandbox.backends import session
from sandbox.languages import BuildResult, get_language
from sandbox.outcome import TestOutcome, Ungradable, trim, ungradable
from sandbox.package import AssignmentPackage
from sandbox.testtypes import TEST_TYPES, Context
from sandbox.testtypes.base import write_files
from sandbox.types import Backend, Verdict


@dataclass
class GradeReport:
    score: float
    max_score: float
    tests: list[TestOutcome]
    gradable: bool = True  # False after a compile error: the attempt does not count
    compile_output: str = ""
    execution_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    # Not None: the package or the harness failed, ``score`` means nothing (see the module doc).
    ungradable: Ungradable | None = None

    def to_results_json(self) -> dict[str, Any]:
        """Gradescope's results.json shape, plus our ``verdict`` per test, ``gradable`` and
        ``ungradable`` (``{"fault", "cause"}`` or null; when set, ``score`` is null)."""
        return {
            "score": None if self.ungradable else round(self.score, 4),
            "max_score": round(self.max_score, 4),
            "execution_time": round(self.execution_seconds, 3),
            "gradable": self.gradable,
            "ungradable": (
                {"fault": str(self.ungradable.fault), "cause": self.ungradable.cause}
                if self.ungradable
                else None
            ),
            "output": self.compile_output,
            "tests": [
                {
                    "name": t.name,
                    "score": round(t.score, 4),
                    "max_score": round(t.max_score, 4),
                    "status": "passed" if t.passed else "failed",
                    "visibility": t.visibility,
                    "sanity": t.sanity,
                    "output": t.output,
                    "verdict": str(t.verdict),
                }
                for t in self.tests
            ],
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def grade(package: AssignmentPackage, files: dict[str, bytes], backend: Backend, *,
          metadata: dict[str, Any] | None = None) -> GradeReport:
    """Build ``files`` (normalized by ``sandbox.intake``) and run every test of ``package``.

    ``metadata`` (optional): what the web app knows about the submission, for Gradescope
    autograders' ``submission_metadata.json`` (``sandbox.gradescope.default_metadata``'s keys).
    """
    started = time.monotonic()
    language = get_language(package.language)
    # One backend session per submission: its build and every test's runs (Docker: in
    # containers of this submission only, reset between runs).
    with session(backend) as backend, fstree.temporary_folder("grade-") as root:
        built = write_files(files, root / "built")
        # Our build runs unless every test builds the upload itself (TestType.own_build).
        build = (
            language.build(backend, built, package.submission, package.limits)
            if any(not TEST_TYPES[t.type].own_build for t in package.tests)
            else BuildResult(ok=True, output="")
        )
        if not build.ok:
            message = trim(build.output or "the program did not compile")
            tests = [
                TestOutcome(
                    t.name, 0.0, t.points, Verdict.COMPILE_ERROR, t.visibility, message,
                    kind=t.type, sanity=t.sanity,
                )
                for t in package.tests
            ]
            return GradeReport(
                0.0,
                sum(t.points for t in package.tests),
                tests,
                gradable=False,
                compile_output=message,
                execution_seconds=time.monotonic() - started,
            )
        context = Context(package, files, backend, built, root, metadata)
        # A test's sanity flag is the spec's, set here once rather than in every runner.
        outcomes = [
            replace(found, sanity=test.sanity) if test.sanity else found
            for test in package.tests
            for found in TEST_TYPES[test.type].run(context, test)
        ]
        return GradeReport(
            score=sum(o.score for o in outcomes),
            max_score=sum(o.max_score for o in outcomes),
            tests=outcomes,
            execution_seconds=time.monotonic() - started,
            ungradable=ungradable(outcomes),
        )
