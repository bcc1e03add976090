"""The hostile corpus: one tiny program per attack, each with the verdict it must get.

Every program's first line says ``expect: <verdict>``. Besides the verdict, every run must leave
the machine as it was: no process of the run left, no cgroup or scratch mount of the run left,
no marker written outside the sandbox, the host's secrets absent from the output and from what
came back in the workdir, a canary process of the host still alive, and a workdir the grader
can copy (as it does before each test) and remove, whatever shape the program gave it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sandbox import fstree
from sandbox.languages import get_language
from sandbox.testtypes.base import fresh_copy
from sandbox.types import Limits, Verdict
from tests.sandbox.conftest import (
    HOST_SECRET,
    RecordingBackend,
    RecordingDockerBackend,
    groups_left,
    leftovers,
)

pytestmark = pytest.mark.sandbox

CORPUS = Path(__file__).with_name("corpus")
PROJECT = Path(__file__).resolve().parents[2]
LIMITS = Limits(
    cpu_seconds=1,
    wall_seconds=2,
    memory_mb=128,
    max_processes=16,
    output_bytes=64_000,
    file_size_mb=4,
    tmp_size_mb=8,
)
LANGUAGE_OF = {".py": "python", ".c": "c", ".cpp": "cpp", ".java": "java"}
# Paths the attacks try to write; none may appear on the host.
HOST_MARKERS = ["/usr/pwned", "/etc/pwned", "/pwned", "/tmp/pwned", "/dev/shm/pwned", "/dev/pwned"]
SHADOW_HEAD = b"root:"


def expected_verdicts(path: Path) -> set[Verdict]:
    """``expect: memory``, or ``expect: memory|timeout`` for a program that two limits may end
    first (which one depends on the machine: both keep it from doing what it tried)."""
    match = re.search(r"expect: ([\w|]+)", path.read_text().splitlines()[0])
    assert match, f"{path.name} must start with an 'expect: <verdict>' comment"
    return {Verdict(name) for name in match.group(1).split("|")}


PROGRAMS = sorted(p for p in CORPUS.iterdir() if p.suffix in LANGUAGE_OF)


def test_the_corpus_covers_every_language_and_enough_attacks():
    assert len(PROGRAMS) >= 25
    assert {LANGUAGE_OF[p.suffix] for p in PROGRAMS} == set(LANGUAGE_OF.values())


@pytest.fixture(scope="module")
def canary() -> Iterator[subprocess.Popen[bytes]]:
    """A host process the attacks must not be able to kill."""
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_hostile_program_gets_its_verdict_and_leaves_the_machine_unharmed(
    any_backend: RecordingBackend | RecordingDockerBackend,
    workdir: Path,
    tmp_path: Path,
    canary: subprocess.Popen[bytes],
    program: Path,
):
    backend = any_backend
    for marker in HOST_MARKERS:
        assert not Path(marker).exists(), f"{marker} exists before the run"
    language = get_language(LANGUAGE_OF[program.suffix])
    shutil.copy(program, workdir / program.name)
    build = language.build(backend, workdir, program.name, LIMITS)
    assert build.ok, build.output

    spec = replace(
        language.run_spec(program.name, LIMITS, workdir=workdir, discard_workdir=False),
        env={"HOST_PROJECT": str(PROJECT)},
    )
    started = time.monotonic()
    result = backend.run(spec)
    elapsed = time.monotonic() - started

    assert result.verdict in expected_verdicts(program), (result.message, result.stderr[-600:])
    assert result.message or result.verdict == Verdict.PASSED
    assert elapsed < LIMITS.wall_seconds + 2
    assert leftovers(backend) == []
    assert groups_left(backend) == []
    assert canary.poll() is None, "a host process was killed"
    for marker in HOST_MARKERS:
        assert not Path(marker).exists(), f"{program.name} wrote {marker} on the host"
    output = result.stdout + result.stderr
    assert HOST_SECRET.encode() not in output
    assert SHADOW_HEAD not in output
    assert len(result.stdout) <= LIMITS.output_bytes and len(result.stderr) <= LIMITS.output_bytes
    # The kernel capped what the run could add to /work (plus what the build put there).
    assert fstree.tree_usage(workdir)[0] < (LIMITS.tmp_size_mb + 4) << 20
    for entry in fstree.walk(workdir):
        if entry.kind == "file" and entry.info.st_size < 1 << 20 and entry.info.st_mode & 0o444:
            with open(entry.name, "rb", opener=lambda name, _: os.open(
                    name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=entry.dir_fd)) as fh:
                assert SHADOW_HEAD not in fh.read(), f"{entry.path} holds the host's shadow"
    if program.name == "daemon.py":
        time.sleep(1.5)  # the daemon would have written by now, had it survived
        assert not (workdir / "daemon_marker").exists()
    # What grading does next with a workdir: copy it for a test, and remove both.
    copy = fresh_copy(workdir, tmp_path)
    fstree.remove_tree(copy)
    fstree.remove_tree(workdir)
    assert not copy.exists() and not workdir.exists()
