"""The reference solution check: grade a package's ``solution/`` twice, as a student's would be.

A teacher's package is only as good as its tests. Before students submit, the grader runs the
teacher's own solution through the real ``grade()`` (same backend, limits and harness as a
student's submission) two times and reports what a teacher needs to know: the score, every test
the solution fails, every test whose result differs between the runs (flaky: timing, randomness,
order), and anything that made it "could not be graded" (the package's fault, shown with its
cause). Plain data in and out; the grader stores ``as_json()`` on the assignment.

The solution's files go only where a student's do: into the student sandbox of these runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.grade import GradeReport, grade
from sandbox.outcome import trim
from sandbox.package import AssignmentPackage
from sandbox.types import Backend

RUNS = 2
OUTPUT_KEPT = 2000  # characters of a failing test's output kept for the teacher


class Status:
    PASSED = "passed"  # full marks, the same in every run
    FAILED = "failed"  # graded, but below full marks or flaky
    UNGRADABLE = "ungradable"  # a run could not be graded, or the solution did not compile


@dataclass
class ReferenceCheck:
    status: str
    score: float
    max_score: float
    runs: list[dict[str, float]] = field(default_factory=list)  # score, max_score, seconds
    failing: list[dict[str, str]] = field(default_factory=list)  # name, verdict, output
    flaky: list[dict[str, Any]] = field(default_factory=list)  # name, verdicts (one a run)
    ungradable: str = ""  # the cause, for the teacher
    compile_output: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status, "score": round(self.score, 4),
            "max_score": round(self.max_score, 4), "runs": self.runs, "failing": self.failing,
            "flaky": self.flaky, "ungradable": self.ungradable,
            "compile_output": self.compile_output,
        }  # fmt: skip


def solution_files(package: AssignmentPackage) -> dict[str, bytes]:
    """The reference solution's files, named as in a submission (``load_package`` checked it)."""
    folder = package.solution_dir
    if folder is None:
        raise ValueError("the package has no solution/ folder")
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink() and "__pycache__" not in p.parts
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


def check_reference(package: AssignmentPackage, backend: Backend, *, runs: int = RUNS
                    ) -> ReferenceCheck:
    """Grade the package's solution ``runs`` times and compare. Raises ``SandboxError`` when the
    sandbox itself fails (infrastructure: the caller retries), ValueError without solution/."""
    files = solution_files(package)
    reports = [grade(package, files, backend) for _ in range(runs)]
    return compare(reports)


def compare(reports: list[GradeReport]) -> ReferenceCheck:
    """What the reports of one solution say together (first run's score)."""
    first = reports[0]
    check = ReferenceCheck(
        status=Status.PASSED, score=first.score, max_score=first.max_score,
        runs=[{"score": round(r.score, 4), "max_score": round(r.max_score, 4),
               "seconds": round(r.execution_seconds, 3)} for r in reports],
    )  # fmt: skip
    broken = next((r for r in reports if r.ungradable), None)
    if broken is not None and broken.ungradable is not None:
        check.status, check.ungradable = Status.UNGRADABLE, broken.ungradable.cause
    elif not first.gradable:
        check.status = Status.UNGRADABLE
        check.compile_output = trim(first.compile_output, OUTPUT_KEPT)
    names = [[t.name for t in r.tests] for r in reports]
    if any(n != names[0] for n in names):
        counts = " vs ".join(str(len(n)) for n in names)
        check.flaky.append({"name": "(the list of tests)",
                            "verdicts": [f"{counts} tests"]})
    else:
        for index, test in enumerate(first.tests):
            results = [r.tests[index] for r in reports]
            if len({(t.verdict, t.score) for t in results}) > 1:
                check.flaky.append({"name": test.name,
                                    "verdicts": [str(t.verdict) for t in results]})
            elif not test.passed:
                check.failing.append({"name": test.name, "verdict": str(test.verdict),
                                      "output": trim(test.output, OUTPUT_KEPT)})
    if check.status == Status.PASSED and (
        check.failing or check.flaky or any(r.score < r.max_score for r in reports)
    ):
        check.status = Status.FAILED
    return check


__all__ = ["ReferenceCheck", "Status", "check_reference", "compare", "solution_files"]
