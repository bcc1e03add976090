"""Per-test line coverage of a Python submission, collected inside the sandbox. Django-free.

Each I/O test runs again under a tiny ``sys.settrace`` tracer that records the executed lines of
the student's file and writes them, as JSON, to a file with an unguessable name in ``/work``. The
student's process could have written that file, so it is capped, validated, and used only as
evidence for the prompt: feedback never changes the score.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from sandbox.package import AssignmentPackage, TestSpec
from sandbox.types import Backend, RunSpec

MAX_COVERAGE_BYTES = 1_000_000

TRACER = r"""
import json, os, runpy, signal, sys
out, target = sys.argv[1], os.path.abspath(sys.argv[2])
sys.argv = sys.argv[2:]
sys.path.insert(0, os.path.dirname(target))
lines = set()
def local(frame, event, arg):
    if event == "line":
        lines.add(frame.f_lineno)
    return local
def tracer(frame, event, arg):
    if os.path.abspath(frame.f_code.co_filename) != target:
        return None
    lines.add(frame.f_lineno)
    return local
def dump():
    sys.settrace(None)
    with open(out, "w") as fh:
        json.dump(sorted(lines), fh)
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


def _read_lines(path: Path, max_line: int) -> set[int] | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_COVERAGE_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, list):
        return None
    return {n for n in data if isinstance(n, int) and 1 <= n <= max_line}


def io_test_coverage(
    backend: Backend, package: AssignmentPackage, files: dict[str, bytes]
) -> dict[str, set[int]]:
    """Lines of the submission file each I/O test executes, by test name (Python only).

    A test whose coverage cannot be read is left out (no evidence rather than wrong evidence).
    """
    if package.language != "python" or package.submission not in files:
        return {}
    max_line = max(1, len(files[package.submission].splitlines()))
    io_tests: list[TestSpec] = [t for t in package.tests if t.type == "io"]
    coverage: dict[str, set[int]] = {}
    with tempfile.TemporaryDirectory(prefix="coverage-") as tmp:
        for test in io_tests:
            workdir = Path(tempfile.mkdtemp(dir=tmp, prefix="run-"))
            for name, content in files.items():
                target = workdir / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            side = f".coverage-{secrets.token_hex(16)}.json"
            backend.run(
                RunSpec(
                    argv=[
                        sys.executable,
                        "-c",
                        TRACER,
                        f"/work/{side}",
                        package.submission,
                        *test.args,
                    ],
                    workdir=workdir,
                    limits=package.limits,
                    stdin=test.stdin.encode(),
                )
            )
            lines = _read_lines(workdir / side, max_line)
            if lines is not None:
                coverage[test.name] = lines
            shutil.rmtree(workdir, ignore_errors=True)
    return coverage
