"""Check candidate repairs by running the teacher's tests on them in the sandbox. Django-free.

Theory of operation: a candidate repair (from the model or from the mutation search) is applied
to a copy of the submission; the tests that failed run first. Screening uses one failing test
for every candidate at once (cheap: pytest candidates share one trusted run); only the survivors
run the other failing tests, and the complete fixes (or, without one, the best few partial ones)
run the passing tests (at most ``max_passing``). A candidate
that turns every failing test green without breaking a passing one is *validated*; one that
fixes some failing tests and breaks none is *partial*; anything else is *rejected*. The budget
(``max_candidates``, ``seconds``) bounds the screening per submission (candidates it never
reached are counted in ``cut``, never as validated); survivors are always confirmed.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from feedback.repair import Repair
from sandbox.evidence import TestKey, rerun
from sandbox.package import AssignmentPackage
from sandbox.types import Backend

VALIDATED, PARTIAL, REJECTED = "validated", "partial", "rejected"
MAX_PARTIAL = 5  # partial fixes confirmed against the passing tests when no fix is complete
MAX_CONFIRM = 12  # survivors of the screening that are checked further
SCREEN_CHUNK = 15  # candidates screened per sandbox batch; the time budget is checked between
# Screening runs get at most these (a survivor is then confirmed under the package's own limits
# on every other test; a fix that needs more than a second on one test is rare in intro work).
SCREEN_CPU_SECONDS = 1.0
SCREEN_WALL_SECONDS = 2.0


@dataclass
class Checked:
    repair: Repair
    status: str = REJECTED
    fixed: list[str] = field(default_factory=list)  # names of failing tests it turns green
    still_failing: int = 0
    broke: int = 0  # passing tests it breaks
    checked_passing: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self.repair), "status": self.status, "fixed": self.fixed,
                "still_failing": self.still_failing, "broke": self.broke,
                "checked_passing": self.checked_passing}


@dataclass
class Budget:
    max_candidates: int = 150
    seconds: float = 20.0
    max_passing: int = 20


@dataclass
class SandboxValidator:
    """Runs candidates of one submission. ``failing``/``passing`` are the graded tests, failing
    visible ones first (they ground the explanation)."""

    backend: Backend
    package: AssignmentPackage
    files: dict[str, bytes]
    failing: list[TestKey]
    passing: list[TestKey]
    budget: Budget = field(default_factory=Budget)
    parallel: int = 2  # I/O test runs at a time
    runs: int = 0  # student runs spent
    cut: int = 0  # candidates the budget left unchecked

    def _variants(self, repairs: list[Repair]) -> list[dict[str, bytes]]:
        code = self.files[self.package.submission].decode("utf-8", errors="replace")
        return [{**self.files, self.package.submission: r.apply(code).encode()} for r in repairs]

    def _rerun(self, repairs: list[Repair], tests: list[TestKey], deadline: float | None, *,
               screening: bool = False) -> list[dict[TestKey, bool]]:
        self.runs += len(repairs) * len(tests)
        limits = self.package.limits
        if screening:  # a candidate that still loops costs a second, not the whole wall clock
            limits = limits.with_(cpu_seconds=min(limits.cpu_seconds, SCREEN_CPU_SECONDS),
                                  wall_seconds=min(limits.wall_seconds, SCREEN_WALL_SECONDS))
        return rerun(self.backend, self.package, self._variants(repairs), tests,
                     deadline=deadline, limits=limits, parallel=self.parallel)

    def check(self, repairs: list[Repair]) -> list[Checked]:
        """Check ``repairs`` (most promising first). The time budget bounds *screening*: once it
        is spent no further candidates are screened, but the survivors found so far are always
        confirmed (at most MAX_CONFIRM of them), so a busy machine checks fewer candidates
        instead of throwing away the ones that work."""
        checked = [Checked(r) for r in repairs]
        if not self.failing or not repairs:
            return checked
        deadline = time.monotonic() + self.budget.seconds
        todo = checked[: self.budget.max_candidates]
        survivors: list[Checked] = []
        screened_with: TestKey | None = None
        screened = 0
        for screen in self.failing[:2]:  # a second screen only when the first found nothing
            screened = 0
            for start in range(0, len(todo), SCREEN_CHUNK):
                if start and time.monotonic() > deadline:
                    break
                chunk = todo[start: start + SCREEN_CHUNK]
                results = self._rerun([c.repair for c in chunk], [screen], None,
                                      screening=True)
                survivors += [c for c, r in zip(chunk, results, strict=True) if r.get(screen)]
                screened += len(chunk)
            screened_with = screen
            if survivors or time.monotonic() > deadline:
                break
        self.cut = len(checked) - screened
        if not survivors or screened_with is None:
            return checked
        survivors = survivors[:MAX_CONFIRM]
        rest = [k for k in self.failing if k != screened_with]
        # The other failing tests tell a complete fix from a partial one...
        results = self._rerun([c.repair for c in survivors], rest, None)
        for c, result in zip(survivors, results, strict=True):
            c.fixed = [screened_with.name] + [k.name for k in rest if result.get(k) is True]
            c.still_failing = len(self.failing) - len(c.fixed)
        # ...then the passing tests must stay green: for every complete fix, or, when there is
        # none, for the best few partial ones (a partial fix only matters without a complete one).
        complete = [c for c in survivors if c.still_failing == 0]
        confirm = complete or sorted(survivors, key=lambda c: c.still_failing)[:MAX_PARTIAL]
        passing = self.passing[: self.budget.max_passing]
        results = self._rerun([c.repair for c in confirm], passing, None)
        for c, result in zip(confirm, results, strict=True):
            c.broke = sum(1 for k in passing if result.get(k) is False)
            c.checked_passing = sum(1 for k in passing if k in result)
            if c.broke or c.checked_passing < len(passing):
                c.status = REJECTED  # broke a test, or a test could not be run
            elif c.still_failing == 0:
                c.status = VALIDATED
            else:
                c.status = PARTIAL
        return checked
