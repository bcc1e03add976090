"""Pytest harness cost against plain pytest, side by side in one run (a figure, never pass/fail).

    .venv/bin/python bench/harness.py [--runs 15] [--package add_two_numbers] [--backend bubblewrap]

For the package's correct submission (``examples/submissions/<package>/correct.*``) it times,
interleaved so that machine load hits both alike:

- **harness**: ``run_pytest_file`` on each pytest file of the package (collection cached, as for
  every submission after the first): a job of the warm trusted run of the package
  (``sandbox/harness/warm.py``), one student sandbox per submission folder (a fork server, one
  forked process per test);
- **harness, cold**: the same with ``SANDBOX_WARM_TRUSTED`` off: a trusted sandbox run of its
  own per submission;
- **plain**: the same test files and solution in one sandbox running plain pytest (``python -m
  pytest``, plugin autoload off as in the harness, which also leaves out the venv's own plugins);
- **io**: the package's io tests, one sandbox run each, added to both sides ("plus the io runs").

It prints the medians, the ratios (target, issue 11: harness + io <= 1.5x plain + io), the
share of the harness's time in its trusted and student sandboxes, and the machine's load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import get_backend  # noqa: E402
from sandbox.harness import run_pytest_file, warm  # noqa: E402
from sandbox.languages import get_language  # noqa: E402
from sandbox.package import load_package  # noqa: E402
from sandbox.types import Backend, RunResult, RunSpec, Verdict  # noqa: E402


class Timed:
    """Wraps a backend: wall time of each run by its program's last argv word."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.spans: dict[str, list[float]] = {}

    def run(self, spec: RunSpec) -> RunResult:
        started = time.perf_counter()
        try:
            return self.inner.run(spec)
        finally:
            key = "trusted" if "trusted" in spec.argv[-1] else (
                "student" if "_grader_harness" in spec.argv[-1] else "other")
            self.spans.setdefault(key, []).append(time.perf_counter() - started)


def _ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--package", default="add_two_numbers")
    parser.add_argument("--backend", default="bubblewrap")
    args = parser.parse_args()
    package = load_package(ROOT / "examples/packages" / args.package)
    correct = next((ROOT / "examples/submissions" / args.package).glob("correct.*"))
    backend = Timed(get_backend(args.backend))
    pytest_files = [t.file for t in package.tests if t.type == "pytest"]
    io_tests = [t for t in package.tests if t.type == "io"]
    language = get_language(package.language)
    with tempfile.TemporaryDirectory() as tmp:
        sub = Path(tmp) / "sub"
        sub.mkdir()
        shutil.copy(correct, sub / package.submission)
        plain_work = Path(tmp) / "plain"

        def harness() -> None:
            for test_file in pytest_files:
                cases = run_pytest_file(backend, package_tests_dir=package.tests_dir,
                                        test_file=test_file, submission_dir=sub,
                                        module_name=package.module_name, limits=package.limits)
                bad = [c for c in cases if c.verdict != Verdict.PASSED]
                if bad:
                    raise SystemExit(f"harness: {bad[0].nodeid} {bad[0].verdict}: {bad[0].output}")

        def plain() -> None:
            shutil.rmtree(plain_work, ignore_errors=True)
            shutil.copytree(sub, plain_work)
            shutil.copytree(package.tests_dir, plain_work / "tests")
            for path in [plain_work, *plain_work.rglob("*")]:
                path.chmod(0o777 if path.is_dir() else 0o666)
            run = backend.inner.run(RunSpec(
                argv=[sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                      "-c", os.devnull, "--rootdir", "/work", *pytest_files],
                workdir=plain_work, limits=package.limits.with_(
                    cpu_seconds=package.limits.cpu_seconds * 4,
                    wall_seconds=package.limits.wall_seconds * 4),
                env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONPATH": "/work:/work/tests"},
                discard_workdir=True,
            ))
            if not run.ok:
                raise SystemExit(f"plain pytest: {run.verdict} {run.stdout[-2000:]!r}")

        def io() -> None:
            for test in io_tests:
                work = Path(tempfile.mkdtemp(dir=tmp))
                shutil.copy(correct, work / package.submission)
                backend.inner.run(language.run_spec(
                    package.submission, package.limits, workdir=work, args=test.args,
                    stdin=test.stdin.encode(),
                ))
                shutil.rmtree(work, ignore_errors=True)

        def cold() -> None:
            warm.ENABLED = False  # not configure(): that would close the warm run too
            try:
                harness()
            finally:
                warm.ENABLED = True

        harness()  # collection, cached from here on as for every later submission
        plain()
        backend.spans.clear()
        rows: dict[str, list[float]] = {"harness": [], "cold": [], "plain": [], "io": []}
        load_before = os.getloadavg()[0]
        for _ in range(args.runs):
            rows["harness"].append(_ms(harness))
            rows["cold"].append(_ms(cold))
            rows["plain"].append(_ms(plain))
            rows["io"].append(_ms(io))
        load_after = os.getloadavg()[0]
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"package {args.package}: pytest files {', '.join(pytest_files)}, "
          f"{len(io_tests)} io tests; backend {args.backend}; median of {args.runs} runs")
    print(f"{'':24} {'ms':>8}")
    print(f"{'harness (pytest files)':24} {med['harness']:8.0f}")
    print(f"{'harness, cold trusted':24} {med['cold']:8.0f}")
    print(f"{'plain pytest, 1 sandbox':24} {med['plain']:8.0f}")
    print(f"{'io runs':24} {med['io']:8.0f}")
    ratio = med["harness"] / med["plain"]
    both = (med["harness"] + med["io"]) / (med["plain"] + med["io"])
    print(f"harness / plain: {ratio:.2f}x; with the io runs on both sides: {both:.2f}x "
          f"(target <= 1.5x)")
    cold_both = (med["cold"] + med["io"]) / (med["plain"] + med["io"])
    print(f"cold trusted / plain: {med['cold'] / med['plain']:.2f}x; with the io runs: "
          f"{cold_both:.2f}x")
    for key in ("trusted", "student"):
        spans = backend.spans.get(key, [])
        if spans:
            print(f"  {key} sandbox runs: {len(spans) / args.runs:.1f} per round (a warm and a "
                  f"cold submission, the plain run), "
                  f"median {statistics.median(spans) * 1000:.0f} ms each")
    print(f"load average {load_before:.2f} → {load_after:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
