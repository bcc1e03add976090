"""Grading survives whatever shape a submission gives its workspace, and leaves nothing behind.

The red team's 3000 nested folders made the grader's copy, chown and cleanup hit RecursionError
(up to 268 MB left per grading); a FIFO made the next copy raise. Here a submission leaves deep
folders, FIFOs, a socket and links in /work from its pytest tests and from its I/O test: the
grade must come out as for an honest submission, and the grading's temporary folders must all
be gone afterwards.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from sandbox.grade import grade
from sandbox.harness import warm
from sandbox.package import load_package
from sandbox.types import Verdict

pytestmark = pytest.mark.sandbox

TOML = """
title = "Shapes"
language = "python"
submission = "solution.py"
[limits]
wall_seconds = 10
cpu_seconds = 3
[[tests]]
type = "pytest"
file = "tests/test_add.py"
points = 1
[[tests]]
type = "io"
name = "sum"
stdin = "2 3\\n"
expected_stdout = "5\\n"
points = 1
"""
TESTS = """
from solution import add


def test_add():
    assert add(2, 3) == 5


def test_add_again():
    assert add(-1, 1) == 0
"""
SOLUTION = b'''
import os
import socket


def litter():
    fd = os.open(".", os.O_RDONLY)
    for _ in range(3000):
        try:
            os.mkdir("d", dir_fd=fd)
        except FileExistsError:
            pass
        below = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = below
    os.close(fd)
    for name in ("fifo", "d/fifo"):
        if not os.path.lexists(name):
            os.mkfifo(name)
    if not os.path.lexists("socket"):
        socket.socket(socket.AF_UNIX).bind("socket")
    if not os.path.lexists("root"):
        os.symlink("/", "root")


litter()


def add(a, b):
    return a + b


if __name__ == "__main__":
    a, b = map(int, input().split())
    print(add(a, b))
'''


def test_a_littered_workspace_grades_normally_and_leaves_nothing(any_backend, tmp_path,
                                                                    monkeypatch):
    package_root = tmp_path / "package"
    (package_root / "tests").mkdir(parents=True)
    (package_root / "assignment.toml").write_text(TOML)
    (package_root / "tests" / "test_add.py").write_text(TESTS)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where grading makes its folders
    report = grade(load_package(package_root), {"solution.py": SOLUTION}, any_backend)
    assert report.ungradable is None
    assert [(t.name, t.verdict) for t in report.tests] == [
        ("test_add", Verdict.PASSED),
        ("test_add_again", Verdict.PASSED),
        ("sum", Verdict.PASSED),
    ], [t.output for t in report.tests]
    assert report.score == report.max_score == 3
    # The package's warm trusted run (sandbox/harness/warm.py) is kept on purpose, its copy of
    # the tests (and on Docker its descriptor hand-off folder) with it; once it is closed,
    # nothing of the grading is left.
    warm.close_all(wait=10)
    assert list(Path(scratch).iterdir()) == []
