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

import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox import fstree
from sandbox.gradescope import default_metadata, merge_metadata, run_gradescope, write_files
from sandbox.harness import run_pytest_file
from sandbox.iotest import check_output
from sandbox.languages import BuildResult, get_language
from sandbox.outcome import TestOutcome, Ungradable, trim, ungradable
from sandbox.package import AssignmentPackage, TestSpec
from sandbox.static_checks import check_source
from sandbox.types import Backend, Fault, RunResult, RunSpec, Verdict


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


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _io_outcome(test: TestSpec, run: RunResult) -> TestOutcome:
    if run.verdict == Verdict.PASSED:
        passed, detail = check_output(run.stdout, test.expected_stdout)
        verdict = Verdict.PASSED if passed else Verdict.FAILED
        output = "" if passed else detail
    else:
        verdict = run.verdict
        stderr = _decode(run.stderr).strip()
        output = run.message + (f"\n{stderr}" if stderr else "")
    return TestOutcome(
        name=test.name,
        score=test.points if verdict == Verdict.PASSED else 0.0,
        max_score=test.points,
        verdict=verdict,
        visibility=test.visibility,
        output=trim(output),
        wall_seconds=run.wall_seconds,
        kind="io",
        fault=Fault.HARNESS if verdict == Verdict.SANDBOX_ERROR else None,
    )


def _fresh_copy(built: Path, parent: Path) -> Path:
    """Each run gets its own copy of the built workspace: no state leaks between tests.

    The build ran in the sandbox, so ``built`` may hold any shape: links are copied as links,
    FIFOs and sockets left out, any depth (``sandbox.fstree``)."""
    target = Path(tempfile.mkdtemp(dir=parent, prefix="run-"))
    fstree.copy_tree(built, target)
    return target


@dataclass(frozen=True)
class _Context:
    """What every test runner gets: the package, the student's files as uploaded, the backend,
    the built workspace (copy it before a run: ``_fresh_copy``) and the grading temp folder."""

    package: AssignmentPackage
    files: dict[str, bytes]
    backend: Backend
    built: Path
    root: Path
    metadata: dict[str, Any] | None = None  # the web app's facts for submission_metadata.json


def _run_io(ctx: _Context, test: TestSpec) -> list[TestOutcome]:
    language = get_language(ctx.package.language)
    run = ctx.backend.run(
        RunSpec(
            argv=[*language.run_argv(ctx.package.submission, ctx.package.limits), *test.args],
            workdir=_fresh_copy(ctx.built, ctx.root),
            limits=ctx.package.limits,
            stdin=test.stdin.encode(),
            discard_workdir=True,
        )
    )
    return [_io_outcome(test, run)]


def _run_pytest(ctx: _Context, test: TestSpec) -> list[TestOutcome]:
    cases = run_pytest_file(
        ctx.backend,
        package_tests_dir=ctx.package.tests_dir,
        test_file=test.file,
        submission_dir=_fresh_copy(ctx.built, ctx.root),
        module_name=ctx.package.module_name,
        limits=ctx.package.limits,
    )
    return [
        TestOutcome(
            name=case.name,
            score=test.points if case.verdict == Verdict.PASSED else 0.0,
            max_score=test.points,
            verdict=case.verdict,
            visibility=test.visibility,
            output=case.output,  # the harness trimmed it
            wall_seconds=case.wall_seconds,
            kind="pytest",
            fault=case.fault,
        )
        for case in cases
    ]


def _run_gradescope(ctx: _Context, test: TestSpec) -> list[TestOutcome]:
    return run_gradescope(
        ctx.backend,
        autograder_dir=ctx.package.root / test.autograder,
        # The files as uploaded, not the build's: the autograder compiles them itself.
        submission_dir=write_files(ctx.files, Path(tempfile.mkdtemp(dir=ctx.root)) / "files"),
        limits=ctx.package.limits,
        parent=ctx.root,
        name=test.name,
        visibility=test.visibility,
        points=test.scale_to,
        run_setup=test.run_setup,
        metadata=merge_metadata(
            default_metadata(title=ctx.package.title,
                             total_points=sum(t.points for t in ctx.package.tests)),
            ctx.metadata,
        ),
    )


def _run_static(ctx: _Context, test: TestSpec) -> list[TestOutcome]:
    """Parse the submission file on this (trusted) side and check the rule; nothing runs.

    It reads the bytes the student uploaded, not the built workspace the sandbox could write.
    """
    assert test.static is not None
    started = time.monotonic()
    fault: Fault | None = None
    own = frozenset(PurePosixPath(n).parts[0].removesuffix(".py") for n in ctx.files
                    if n.endswith(".py"))
    try:
        passed, output = check_source(
            test.static, ctx.files.get(ctx.package.submission, b""),
            filename=ctx.package.submission, own_modules=own,
        )
    except Exception as exc:  # a bug in a rule is ours (a trusted step), never the student's
        verdict, output, fault = (
            Verdict.SANDBOX_ERROR, f"The static check crashed: {type(exc).__name__}: {exc}",
            Fault.HARNESS,
        )
    else:
        verdict = Verdict.PASSED if passed else Verdict.FAILED
    return [
        TestOutcome(
            name=test.name,
            score=test.points if verdict == Verdict.PASSED else 0.0,
            max_score=test.points,
            verdict=verdict,
            visibility=test.visibility,
            output=trim(output),
            wall_seconds=time.monotonic() - started,
            kind="static",
            fault=fault,
        )
    ]


# The test-type registry's runners (sandbox.package.TEST_PARSERS has the parsers): each turns
# one [[tests]] entry into its outcomes. A new type is a parser there and a runner here.
RUNNERS: dict[str, Callable[[_Context, TestSpec], list[TestOutcome]]] = {
    "pytest": _run_pytest,
    "io": _run_io,
    "gradescope": _run_gradescope,
    "static": _run_static,
}
# Test types that take the student's files as uploaded and build them themselves: when every
# test of a package is one, our build step does not run (on Gradescope a syntax or compile
# error is the autograder's to grade), and they never see its output files.
OWN_BUILD = frozenset({"gradescope"})


def grade(package: AssignmentPackage, files: dict[str, bytes], backend: Backend, *,
          metadata: dict[str, Any] | None = None) -> GradeReport:
    """Build ``files`` (normalized by ``sandbox.intake``) and run every test of ``package``.

    ``metadata`` (optional): what the web app knows about the submission, for Gradescope
    autograders' ``submission_metadata.json`` (``sandbox.gradescope.default_metadata``'s keys).
    """
    started = time.monotonic()
    language = get_language(package.language)
    with fstree.temporary_folder("grade-") as root:
        built = root / "built"
        built.mkdir()
        for name, content in files.items():
            target = built / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        build = (
            language.build(backend, built, package.submission, package.limits)
            if any(t.type not in OWN_BUILD for t in package.tests)
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
        context = _Context(package, files, backend, built, root, metadata)
        # A test's sanity flag is the spec's, set here once rather than in every runner.
        outcomes = [
            replace(found, sanity=test.sanity) if test.sanity else found
            for test in package.tests
            for found in RUNNERS[test.type](context, test)
        ]
        return GradeReport(
            score=sum(o.score for o in outcomes),
            max_score=sum(o.max_score for o in outcomes),
            tests=outcomes,
            execution_seconds=time.monotonic() - started,
            ungradable=ungradable(outcomes),
        )
