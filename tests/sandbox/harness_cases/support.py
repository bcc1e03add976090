"""Shared helpers of ``tests/sandbox/test_harness*.py``: build submissions, run a package.

The backend is the session's real bubblewrap backend (``backend`` in tests/sandbox/conftest.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sandbox.harness import CaseResult, run_pytest_file
from sandbox.types import Backend, Limits, Verdict

CASES = Path(__file__).parent
# Small limits keep the timeout tests short; still far above what the honest tests need.
FAST = Limits(wall_seconds=3.0, cpu_seconds=2.0, memory_mb=256)


def submission(tmp_path: Path, *, case: str = "", solution: str = "", source: str = "",
               module: str = "solution") -> Path:
    """A submission folder holding ``module.py`` from a case's solutions/ file or ``source``."""
    folder = tmp_path / "submission"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{module}.py"
    if solution:
        shutil.copy(CASES / case / "solutions" / solution, target)
    else:
        target.write_text(source)
    return folder


def run_case(backend: Backend, case: str, submission_dir: Path, test_file: str,
             limits: Limits = FAST, tests_dir: Path | None = None) -> list[CaseResult]:
    return run_pytest_file(
        backend,
        package_tests_dir=tests_dir or CASES / case / "tests",
        test_file=test_file,
        submission_dir=submission_dir,
        module_name="solution",
        limits=limits,
    )


def verdicts(results: list[CaseResult]) -> dict[str, Verdict]:
    return {r.name: r.verdict for r in results}


def passed(results: list[CaseResult]) -> int:
    return sum(r.verdict == Verdict.PASSED for r in results)
