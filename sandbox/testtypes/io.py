"""``type = "io"``: run the program with ``stdin`` (and ``args``), compare its stdout with
``expected_stdout`` (``sandbox.iotest``).

Feedback traces it by running the program again under a line tracer (``TRACER``, Python only)
and checks candidate repairs with one sandbox run per (variant, test).
"""

from __future__ import annotations

import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sandbox import fstree
from sandbox.harness.traces import read_evidence
from sandbox.iotest import check_output
from sandbox.languages import get_language
from sandbox.outcome import TestOutcome
from sandbox.testtypes.base import (
    Context,
    Probe,
    TestKey,
    TestSpec,
    TestType,
    Trace,
    Variants,
    entry_name,
    expect,
    fresh_copy,
    known_keys,
    points_and_visibility,
    sanity,
)
from sandbox.types import Backend, Fault, Limits, RunResult, RunSpec, Verdict

# The traced run of an io test: the student's program under sys.settrace, writing the lines of
# the submission file it executed (and the probed values) to an unguessable file in /work.
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


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


class IoTests(TestType):
    name = "io"
    keys = frozenset({"type", "name", "stdin", "expected_stdout", "points", "visibility", "args",
                      "sanity"})
    traced = True
    io_diff = True

    def parse(self, raw: dict[str, Any], index: int, root: Path, language: str) -> TestSpec:
        where = f"tests[{index}]"
        known_keys(raw, where, self.keys)
        points, visibility = points_and_visibility(raw, where)
        name = entry_name(raw, where, f"io test {index + 1}")
        stdin = raw.get("stdin", "")
        expected: Any = raw.get("expected_stdout")
        args = raw.get("args", [])
        expect(isinstance(stdin, str), f"{where}.stdin must be a string")
        expect(isinstance(expected, str), f"{where}.expected_stdout must be a string")
        expect(
            isinstance(args, list) and all(isinstance(a, str) for a in args),
            f"{where}.args must be a list of strings",
        )
        return TestSpec(
            self.name, name, points, visibility, stdin=stdin, expected_stdout=expected,
            args=tuple(args), sanity=sanity(raw, where),
        )

    def run(self, ctx: Context, spec: TestSpec) -> list[TestOutcome]:
        run = _run(ctx.backend, ctx.package.language, ctx.package.submission, spec,
                   ctx.package.limits, fresh_copy(ctx.built, ctx.root))
        if run.verdict == Verdict.PASSED:
            passed, detail = check_output(run.stdout, spec.expected_stdout)
            verdict = Verdict.PASSED if passed else Verdict.FAILED
            output = "" if passed else detail
        else:
            verdict = run.verdict
            stderr = _decode(run.stderr).strip()
            output = run.message + (f"\n{stderr}" if stderr else "")
        return [self.outcome(spec, verdict, output, wall_seconds=run.wall_seconds,
                             fault=Fault.HARNESS if verdict == Verdict.SANDBOX_ERROR else None)]

    def trace(self, ctx: Context, index: int, spec: TestSpec, probe: Probe,
              only: set[TestKey] | None) -> list[tuple[TestKey, Trace | None]]:
        key = TestKey(self.name, index, spec.name)
        if only is not None and key not in only:
            return []
        workdir = fresh_copy(ctx.built, ctx.root)
        side = f".evidence-{secrets.token_hex(16)}.json"
        ctx.backend.run(RunSpec(
            argv=[sys.executable, "-c", TRACER, f"/work/{side}", ctx.package.submission,
                  str(probe.line), ",".join(probe.names), *spec.args],
            workdir=workdir, limits=ctx.package.limits, stdin=spec.stdin.encode()))
        max_line = max(1, len(ctx.files.get(ctx.package.submission, b"").splitlines()))
        read = read_evidence(workdir / side, max_line)
        fstree.discard(workdir)
        return [(key, Trace(*read) if read is not None else None)]

    def rerun(self, job: Variants, keys: list[TestKey]) -> dict[tuple[int, TestKey], bool]:
        """One sandbox run per (variant, test), ``job.parallel`` at a time."""
        runs = [(i, key) for i in range(len(job.dirs)) for key in keys]

        def one(item: tuple[int, TestKey]) -> tuple[int, TestKey, bool | None]:
            i, key = item
            if job.deadline is not None and time.monotonic() > job.deadline:
                return i, key, None
            run_dir = fresh_copy(job.dirs[i], job.root)
            try:
                spec = job.package.tests[key.spec]
                run = _run(job.backend, job.package.language, job.package.submission, spec,
                           job.limits, run_dir)
                return i, key, (run.verdict == Verdict.PASSED
                                and check_output(run.stdout, spec.expected_stdout)[0])
            finally:
                fstree.discard(run_dir)

        results: dict[tuple[int, TestKey], bool] = {}
        if runs:
            with ThreadPoolExecutor(max_workers=max(1, job.parallel),
                                    thread_name_prefix="rerun") as pool:
                for i, key, passed in pool.map(one, runs):
                    if passed is not None:
                        results[i, key] = passed
        return results


def _run(backend: Backend, language: str, submission: str, spec: TestSpec, limits: Limits,
         workdir: Path) -> RunResult:
    """The program's run for ``spec`` in ``workdir`` (thrown away after it): its language's run
    command plus the spec's args, with what its runtime needs (``Language.run_spec``)."""
    return backend.run(get_language(language).run_spec(
        submission, limits, workdir=workdir, args=spec.args, stdin=spec.stdin.encode()))
