"""Feedback evidence from the sandbox: traced runs and re-runs of chosen tests. Never a score.

Two jobs, both for Python submissions and both inside the same sandbox backend as grading:

* ``collect_traces``: run every I/O and pytest test again with a line tracer in the student
  process (``sys.settrace``), giving the lines of the submission file each test executes and,
  optionally, the values of some names the first times a chosen line runs. It is a second run
  on purpose: the score always comes from the untraced run, so the tracer's overhead can never
  turn a correct, fast-enough program into a timeout.
* ``rerun``: run chosen tests (failing ones first) against many variants of the submission —
  candidate repairs — and say, per variant and test, whether it passed. pytest tests of all
  variants share one trusted run (``run_pytest_plan``), one fresh student process per pair.

Everything the student side writes is untrusted: capped, validated, and used only to point at
lines and to check repairs.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sandbox import fstree
from sandbox.harness import Evidence, run_pytest_file, run_pytest_plan
from sandbox.harness.runner import _read_evidence
from sandbox.iotest import check_output
from sandbox.package import AssignmentPackage, TestSpec
from sandbox.types import Backend, Limits, RunSpec, Verdict

TRACER = r"""
import json, os, reprlib, runpy, signal, sys
out, target, probe_line = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3])
names = [n for n in sys.argv[4].split(",") if n]
sys.argv = [sys.argv[2], *sys.argv[5:]]  # as the program sees it: its own path, then its args
sys.path.insert(0, os.path.dirname(target))
lines, probes = set(), []
short = reprlib.Repr()
short.maxstring, short.maxother, short.maxlist = 60, 60, 8
def values(frame):
    found = {}
    for n in names:
        if n in frame.f_locals or n in frame.f_globals:
            try:
                found[n] = short.repr(frame.f_locals.get(n, frame.f_globals.get(n)))[:200]
            except Exception:
                found[n] = "?"
    return found
def local(frame, event, arg):
    if event == "line":
        lines.add(frame.f_lineno)
        if frame.f_lineno == probe_line and len(probes) < 3:
            probes.append(values(frame))
    return local
def tracer(frame, event, arg):
    if os.path.abspath(frame.f_code.co_filename) != target:
        return None
    lines.add(frame.f_lineno)
    return local
def dump():
    sys.settrace(None)
    with open(out, "w") as fh:
        json.dump({"lines": sorted(lines), "probes": probes}, fh)
def out_of_cpu(signum, frame):  # RLIMIT_CPU's soft limit: an endless loop still leaves its lines
    dump()
    os._exit(128 + signum)
signal.signal(signal.SIGXCPU, out_of_cpu)
sys.settrace(tracer)
try:
    runpy.run_path(target, run_name="__main__")
finally:
    dump()
"""


@dataclass(frozen=True)
class TestKey:
    """A test as grading reported it: its kind, the spec it came from, and its name."""

    kind: str  # "io" | "pytest"
    spec: int  # index into package.tests
    name: str

    __test__ = False


@dataclass
class Trace:
    covered: frozenset[int]
    probes: list[dict[str, str]] = field(default_factory=list)


def match_traces(results: list[tuple[str, str]], traces: list[tuple[TestKey, Trace | None]]
                 ) -> list[tuple[TestKey | None, Trace | None]]:
    """Pair graded results ((kind, name) in grading order) with traced runs of the same kind and
    name, each traced run used once (names may repeat across test files); (None, None) for a
    result no traced run explains (gradescope, static rules, a collection error)."""
    pending = list(traces)
    paired: list[tuple[TestKey | None, Trace | None]] = []
    for kind, name in results:
        match = next((i for i, (k, _) in enumerate(pending) if k.kind == kind and k.name == name),
                     None)
        paired.append(pending.pop(match) if match is not None else (None, None))
    return paired


def _write(folder: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return folder


def _max_line(files: dict[str, bytes], package: AssignmentPackage) -> int:
    return max(1, len(files.get(package.submission, b"").splitlines()))


def collect_traces(backend: Backend, package: AssignmentPackage, files: dict[str, bytes], *,
                   probe_line: int = 0, probe_names: tuple[str, ...] = (),
                   only: set[TestKey] | None = None) -> list[tuple[TestKey, Trace | None]]:
    """Traced runs of the package's I/O and pytest tests (Python only), in grading's order,
    each with its trace (None when the tracer left nothing readable). ``only`` restricts the
    runs to those tests (a pytest file runs when one of its tests is wanted)."""
    if package.language != "python" or package.submission not in files:
        return []
    found: list[tuple[TestKey, Trace | None]] = []
    max_line = _max_line(files, package)
    with fstree.temporary_folder("evidence-") as root:
        for index, spec in enumerate(package.tests):
            if spec.type == "io":
                key = TestKey("io", index, spec.name)
                if only is not None and key not in only:
                    continue
                workdir = _write(Path(tempfile.mkdtemp(dir=root, prefix="io-")), files)
                side = f".evidence-{secrets.token_hex(16)}.json"
                backend.run(RunSpec(
                    argv=[sys.executable, "-c", TRACER, f"/work/{side}", package.submission,
                          str(probe_line), ",".join(probe_names), *spec.args],
                    workdir=workdir, limits=package.limits, stdin=spec.stdin.encode()))
                read = _read_evidence(workdir / side, max_line)
                found.append((key, Trace(*read) if read is not None else None))
                fstree.discard(workdir)
            elif spec.type == "pytest":
                if only is not None and not any(k.spec == index for k in only):
                    continue
                workdir = _write(Path(tempfile.mkdtemp(dir=root, prefix="py-")), files)
                cases = run_pytest_file(
                    backend, package_tests_dir=package.tests_dir, test_file=spec.file,
                    submission_dir=workdir, module_name=package.module_name,
                    limits=package.limits,
                    evidence=Evidence(probe_line=probe_line, probe_names=probe_names))
                for case in cases:
                    key = TestKey("pytest", index, case.name)
                    if only is not None and key not in only:
                        continue
                    trace = Trace(case.covered, case.probes) if case.covered is not None else None
                    found.append((key, trace))
    return found


def _io_passes(backend: Backend, package: AssignmentPackage, spec: TestSpec,
               workdir: Path, limits: Limits) -> bool:
    from sandbox.languages import get_language

    argv = [*get_language(package.language).run_argv(package.submission, limits), *spec.args]
    run = backend.run(RunSpec(argv=argv, workdir=workdir, limits=limits,
                              stdin=spec.stdin.encode()))
    return run.verdict == Verdict.PASSED and check_output(run.stdout, spec.expected_stdout)[0]


def rerun(backend: Backend, package: AssignmentPackage, variants: list[dict[str, bytes]],
          tests: list[TestKey], *, deadline: float | None = None,
          limits: Limits | None = None, parallel: int = 1) -> list[dict[TestKey, bool]]:
    """Whether each test passes for each variant (Python submissions: no build step).

    I/O tests run one sandbox run each (``parallel`` at a time); pytest tests of every variant
    share one trusted run per test file. ``limits`` (default: the package's) bound every student
    run: feedback screens candidates under tighter ones, so that a candidate that still loops
    costs a second, not the package's whole wall clock. Past ``deadline``
    (``time.monotonic()``), the remaining I/O runs are skipped and their tests left out of the
    variant's dict (unknown, not failed).
    """
    limits = limits or package.limits
    results: list[dict[TestKey, bool]] = [{} for _ in variants]
    if not variants or not tests:
        return results
    with fstree.temporary_folder("rerun-") as root:
        dirs = [_write(root / f"v{i}", files) for i, files in enumerate(variants)]
        by_file: dict[int, list[TestKey]] = {}
        for key in tests:
            if key.kind == "pytest":
                by_file.setdefault(key.spec, []).append(key)
        for spec_index, keys in by_file.items():
            spec = package.tests[spec_index]
            plan = [(f"{spec.file}::{k.name}", d) for d in dirs for k in keys]
            cases = run_pytest_plan(backend, package_tests_dir=package.tests_dir,
                                    test_file=spec.file, plan=plan,
                                    module_name=package.module_name, limits=limits)
            if len(cases) != len(plan):  # a collection error: nothing known
                continue
            for n, case in enumerate(cases):
                results[n // len(keys)][keys[n % len(keys)]] = case.verdict == Verdict.PASSED
        io_runs = [(i, key) for i in range(len(dirs)) for key in tests if key.kind == "io"]

        def one(item: tuple[int, TestKey]) -> tuple[int, TestKey, bool | None]:
            i, key = item
            if deadline is not None and time.monotonic() > deadline:
                return i, key, None
            run_dir = Path(tempfile.mkdtemp(dir=root, prefix="run-"))
            try:
                fstree.copy_tree(dirs[i], run_dir)
                return i, key, _io_passes(backend, package, package.tests[key.spec], run_dir,
                                          limits)
            finally:
                fstree.discard(run_dir)

        if io_runs:
            with ThreadPoolExecutor(max_workers=max(1, parallel),
                                    thread_name_prefix="rerun") as pool:
                for i, key, passed in pool.map(one, io_runs):
                    if passed is not None:
                        results[i][key] = passed
    return results


__all__ = ["TestKey", "Trace", "collect_traces", "match_traces", "rerun"]
