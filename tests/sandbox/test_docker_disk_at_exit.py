"""The Docker backend measures /work, /tmp and /dev/shm again once the program ended, with or
without copying /work back, from the host or (where it cannot see the container's mounts) in
the finishing exec: a program that filled its space and ignored ENOSPC gets output_limit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sandbox.types import Limits, RunSpec, Verdict
from tests.sandbox.conftest import RecordingDockerBackend

pytestmark = [pytest.mark.sandbox, pytest.mark.docker]
CORPUS = Path(__file__).with_name("corpus")
LIMITS = Limits(cpu_seconds=2, wall_seconds=4, memory_mb=128, max_processes=16,
                output_bytes=64_000, file_size_mb=4, tmp_size_mb=8)


def run(backend: RecordingDockerBackend, workdir: Path, program: str, *, discard: bool):
    shutil.copy(CORPUS / program, workdir / program)
    return backend.run(RunSpec(argv=["python3", program], workdir=workdir, limits=LIMITS,
                               discard_workdir=discard))


@pytest.mark.parametrize("program", ["fill_work_quietly.py", "fill_tmp_quietly.py"])
@pytest.mark.parametrize("discard", [True, False], ids=["discarded", "copied-back"])
@pytest.mark.parametrize("host_view", [True, False], ids=["host-view", "exec"])
def test_a_full_space_at_exit_is_output_limit_whichever_way_it_is_measured(
    docker_backend: RecordingDockerBackend, workdir: Path, monkeypatch: pytest.MonkeyPatch,
    program: str, discard: bool, host_view: bool,
):
    if not host_view:
        monkeypatch.setattr(docker_backend, "_space_full", lambda container_id: None)
    finishes: list[bool] = []
    finish = docker_backend._finish
    monkeypatch.setattr(docker_backend, "_finish", lambda *a, **k: finishes.append(
        k["copy_back"]) or finish(*a, **k))
    result = run(docker_backend, workdir, program, discard=discard)
    # The finishing exec runs to copy /work back, or where the host cannot see the mounts.
    assert finishes == ([] if discard and host_view else [not discard])
    assert result.verdict == Verdict.OUTPUT_LIMIT, (result.message, result.stdout)
    assert b"ignored ENOSPC" in result.stdout  # the program itself thought it had passed
    assert "8 MB" in result.message


@pytest.mark.parametrize("discard", [True, False], ids=["discarded", "copied-back"])
def test_a_program_that_stays_under_its_space_passes(
    docker_backend: RecordingDockerBackend, workdir: Path, discard: bool
):
    (workdir / "small.py").write_text(
        "open('/work/a', 'wb').write(b'1' * (2 << 20))\n"
        "open('/tmp/b', 'wb').write(b'1' * (2 << 20))\n"
    )
    result = docker_backend.run(RunSpec(argv=["python3", "small.py"], workdir=workdir,
                                        limits=LIMITS, discard_workdir=discard))
    assert result.verdict == Verdict.PASSED, result.message
    assert (workdir / "a").exists() is (not discard)
