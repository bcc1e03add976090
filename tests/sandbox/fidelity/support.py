"""The fidelity corpus: one folder per pytest idiom, run by plain pytest and by the harness.

Each idiom folder holds ``tests/`` (a test file, maybe a conftest.py, helpers and data),
``correct.py`` and ``buggy.py`` (each becomes the submission's ``solution.py``), and, for an idiom
the harness refuses at upload, ``REFUSED`` with the words the refusal must contain.

The oracle is plain pytest in a subprocess, from the package root as a teacher runs it
(``python -m pytest tests/test_x.py``), with the student's code unsandboxed (fine for our own
corpus). The harness run is ``run_pytest_file`` on the real backend. Both give a map node id →
passed; tests skipped by their marks are left out of both (the harness's documented rule).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sandbox.harness import run_pytest_file
from sandbox.types import Backend, Limits, Verdict

CORPUS = Path(__file__).resolve().parent
VARIANTS = ("correct", "buggy")
# Idioms the harness does not support yet, and why: expected to disagree (see README).
KNOWN_GAPS: dict[str, str] = {
    "module_state_across_tests": (
        "each test imports the student's module afresh in processes of its own, so what an "
        "earlier test left in the module's globals (a registry it filled) is not there for a "
        "later test; set-up shared through a wider-scoped fixture is replayed (see README), "
        "the module's own state is not"),
    "student_eq_with_test_values": (
        "a comparison of a student object with a value of the test (==, in) is decided on the "
        "test's side, never by the student's __eq__ or __contains__: the student's code must "
        "not judge its own result (an __eq__ that always says True would pass every test), so "
        "Point(1, 2) == (1, 2) is False here; comparisons between two student objects are the "
        "student's"),
}
LIMITS = Limits(wall_seconds=10.0, cpu_seconds=5.0, memory_mb=512)
_PLUGIN = '''
import json, os
from _pytest.skipping import evaluate_skip_marks

RESULTS = {}
LEFT_OUT = set()


def pytest_collection_modifyitems(items):
    LEFT_OUT.update(item.nodeid for item in items if evaluate_skip_marks(item) is not None)


def pytest_runtest_logreport(report):
    passed = RESULTS.setdefault(report.nodeid, True)
    called = report.when == "call" and report.passed and not hasattr(report, "wasxfail")
    RESULTS[report.nodeid] = passed and not report.failed and (report.when != "call" or called)
    if report.when == "setup" and report.skipped:
        RESULTS[report.nodeid] = False


def pytest_sessionfinish(session, exitstatus):
    found = {n: p for n, p in RESULTS.items() if n not in LEFT_OUT}
    with open(os.environ["FIDELITY_OUT"], "w") as fh:
        json.dump({"results": found, "exit": int(exitstatus)}, fh)
'''


def idioms() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if (p / "tests").is_dir())


def refused(idiom: str) -> str | None:
    """What the upload check must say about this idiom, or None when it is supported."""
    marker = CORPUS / idiom / "REFUSED"
    return marker.read_text().strip() if marker.is_file() else None


def files_of(idiom: str) -> list[str]:
    return sorted(f"tests/{p.name}" for p in (CORPUS / idiom / "tests").glob("test_*.py"))


def make_package(idiom: str, variant: str, dest: Path) -> Path:
    """A package-like folder: ``tests/`` and ``solution.py`` side by side, as a teacher has it."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(CORPUS / idiom / "tests", dest / "tests",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(CORPUS / idiom / f"{variant}.py", dest / "solution.py")
    return dest


def plain_pytest(package: Path, test_file: str) -> dict[str, bool]:
    """The oracle: node id → passed, from plain pytest run in a subprocess."""
    with tempfile.TemporaryDirectory(prefix="oracle-") as tmp:
        (Path(tmp) / "fidelity_oracle.py").write_text(_PLUGIN)
        out = Path(tmp) / "out.json"
        env = {**os.environ, "PYTHONPATH": tmp, "FIDELITY_OUT": str(out),
               "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("PYTEST_ADDOPTS", None)
        subprocess.run(
            [sys.executable, "-m", "pytest", "-c", os.devnull, "--rootdir", str(package),
             "-p", "no:cacheprovider", "-p", "fidelity_oracle", "-q", test_file],
            cwd=package, env=env, capture_output=True, timeout=120, check=False,
        )
        data = json.loads(out.read_text())
    results: dict[str, bool] = data["results"]
    return results


def through_harness(backend: Backend, package: Path, test_file: str) -> dict[str, bool]:
    submission = package.parent / f"{package.name}-submission"
    submission.mkdir(exist_ok=True)
    shutil.copy(package / "solution.py", submission / "solution.py")
    cases = run_pytest_file(backend, package_tests_dir=package / "tests", test_file=test_file,
                            submission_dir=submission, module_name="solution", limits=LIMITS)
    return {c.nodeid: c.verdict == Verdict.PASSED for c in cases}


@dataclass
class Comparison:
    idiom: str
    variant: str
    plain: dict[str, bool]
    harness: dict[str, bool]

    @property
    def agrees(self) -> bool:
        return self.plain == self.harness

    def differences(self) -> list[str]:
        names = sorted(set(self.plain) | set(self.harness))
        return [f"{n}: plain {self.plain.get(n, 'absent')}, harness {self.harness.get(n, 'absent')}"
                for n in names if self.plain.get(n) != self.harness.get(n)]


def compare(backend: Backend, idiom: str, variant: str, tmp: Path) -> Comparison:
    """Both runs of one idiom with one solution (the oracle's subprocess in parallel)."""
    package = make_package(idiom, variant, tmp / f"{idiom}-{variant}")
    plain: dict[str, bool] = {}
    harness: dict[str, bool] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        for test_file in files_of(idiom):
            oracle = pool.submit(plain_pytest, package, test_file)
            harness.update(through_harness(backend, package, test_file))
            plain.update(oracle.result())
    return Comparison(idiom, variant, plain, harness)


def agreement(backend: Backend, names: list[str] | None = None) -> list[Comparison]:
    """Every supported idiom with both solutions."""
    found: list[Comparison] = []
    with tempfile.TemporaryDirectory(prefix="fidelity-") as tmp:
        for idiom in names or [i for i in idioms() if refused(i) is None]:
            found += [compare(backend, idiom, variant, Path(tmp)) for variant in VARIANTS]
    return found
