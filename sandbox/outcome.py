"""What one test produced, and how its text is cut for a student. A leaf module: grade.py, the
pytest harness and the gradescope runner all build on it without importing each other.

``TestOutcome`` is the one per-test result from the sandbox to storage: every test type's runner
returns it (the pytest harness too, before the type sets its points), ``GradeReport`` carries
it, the web app stores it as a ``TestResult`` row and feedback reads its evidence from it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sandbox.types import Fault, Verdict

OUTPUT_SHOWN = 8_000  # characters of output a student sees per test
CAUSE_SHOWN = 4_000  # characters of an ungradable submission's cause kept for staff


@dataclass
class TestOutcome:
    name: str
    score: float
    max_score: float
    verdict: Verdict
    visibility: str
    output: str
    wall_seconds: float = 0.0
    kind: str = "io"
    # Set when this test gave no result for the student because the teacher's package or our
    # harness failed (the verdict is then SANDBOX_ERROR): see ``ungradable``.
    fault: Fault | None = None
    # The package marks it ``sanity = true``: its result is shown to the student at once, whatever
    # the assignment's release policy (the student learns the submission runs at all).
    sanity: bool = False
    # The pytest harness: the test's pytest id ("tests/test_add.py::test_small"); "" elsewhere.
    nodeid: str = ""
    # Feedback evidence from a traced run (lines of the submission it executed, probed values),
    # never used for a score; None when the run was not traced.
    covered: frozenset[int] | None = None
    probes: list[dict[str, str]] = field(default_factory=list)

    __test__ = False

    @property
    def passed(self) -> bool:
        return self.verdict == Verdict.PASSED


@dataclass(frozen=True)
class Ungradable:
    """Why a submission could not be graded: no score, no attempt used, staff see ``cause``.

    ``cause`` may quote the teacher's tests (a collection traceback): it is for staff only.
    """

    fault: Fault
    cause: str


def ungradable(tests: Iterable[TestOutcome]) -> Ungradable | None:
    """The submission's "could not be graded" verdict, or None when every test has a result.

    One test without a result is enough: a score from the others would be lower than what the
    teacher's tests give, so it would not be the grade. A package fault wins over a harness one
    (it is the one a teacher can fix). The cause names the first such test and how many more.
    """
    faulty = [t for t in tests if t.fault is not None]
    if not faulty:
        return None
    fault = Fault.PACKAGE if any(t.fault == Fault.PACKAGE for t in faulty) else Fault.HARNESS
    first = next(t for t in faulty if t.fault == fault)
    who = "The assignment's tests failed" if fault == Fault.PACKAGE else "The grader failed"
    output = first.output.strip()
    cause = f"{who} in {first.name}: {_headline(output) or first.verdict}"
    if "\n" in output:
        cause += "\n\n" + output
    others = len(faulty) - 1
    more = f"\n(and {others} more test{'s' if others != 1 else ''} without a result)"
    return Ungradable(fault, trim(cause, CAUSE_SHOWN - len(more)) + (more if others else ""))


def _headline(output: str) -> str:
    """The line that says what went wrong: pytest's last ``E`` line, else the first line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return (errors[-1] if errors else lines[0] if lines else "")[:300]


def trim(text: str, limit: int = OUTPUT_SHOWN) -> str:
    """At most ``limit`` characters, saying how many were cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 40] + f"\n… ({len(text) - limit + 40} more characters)"


def output_tail(data: bytes, limit: int = 2000) -> str:
    """The last ``limit`` characters of a program's output, decoded leniently."""
    return data.decode("utf-8", errors="replace").strip()[-limit:]
