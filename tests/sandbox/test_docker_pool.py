"""The Docker backend's warm pool: a warm container that died while it waited costs nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sandbox.types import RunSpec, Verdict
from tests.sandbox.conftest import RecordingDockerBackend

pytestmark = [pytest.mark.sandbox, pytest.mark.docker]


def test_a_run_whose_warm_container_died_runs_in_a_fresh_one(
        docker_backend: RecordingDockerBackend, tmp_path: Path) -> None:
    spec = RunSpec(argv=["sh", "-c", "echo staged"], workdir=tmp_path)
    assert docker_backend.run(spec).verdict == Verdict.PASSED  # the pool for these limits fills
    deadline = time.monotonic() + 30
    key = next(iter(docker_backend._pools))
    while not any(docker_backend._pools.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    killed = 0
    for pool in docker_backend._pools.values():
        for warm in list(pool):
            docker_backend._client.api.kill(warm.id)  # the engine took it down while it waited
            killed += 1
    assert killed, f"no warm container to kill for {key}"
    result = docker_backend.run(spec)
    assert result.verdict == Verdict.PASSED and result.stdout == b"staged\n"
