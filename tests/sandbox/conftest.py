"""Fixtures for the sandbox tests: one real bubblewrap backend, a fresh workdir per test."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sandbox.backends import bwrap_supervise
from sandbox.backends.bwrap import SCRATCH_DIR, BubblewrapBackend
from sandbox.backends.docker import DockerBackend
from sandbox.types import RunResult, RunSpec, SandboxError

# Set in the test process's environment; no sandboxed program may ever see it.
HOST_SECRET = "grader-host-secret-" + secrets.token_hex(8)


class RecordingBackend(BubblewrapBackend):
    """The real backend, remembering the uid of its last run so tests can look for leftovers."""

    last_uid: int | None = None

    @contextmanager
    def _slot(self, avoid: set[int] | None = None) -> Iterator[int | None]:
        with super()._slot(avoid) as uid:
            self.last_uid = uid
            yield uid


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> RecordingBackend:
    try:
        real = RecordingBackend()
        real.run(RunSpec(argv=["/bin/true"], workdir=tmp_path_factory.mktemp("probe")))
    except SandboxError as exc:
        pytest.skip(f"bubblewrap cannot run here: {exc}")
    return real


class RecordingDockerBackend(DockerBackend):
    """The real Docker backend, remembering the container of its last run."""

    last_container: str | None = None

    def _exec_run(self, container_id: str, spec: RunSpec, work_tar: bytes, *,
                  keep: bool = False) -> RunResult:
        self.last_container = container_id
        return super()._exec_run(container_id, spec, work_tar, keep=keep)

    def container_exists(self, container_id: str) -> bool:
        from docker.errors import NotFound

        try:
            self._client.containers.get(container_id)
        except NotFound:
            return False
        return True


@pytest.fixture(scope="session")
def docker_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RecordingDockerBackend]:
    try:
        real = RecordingDockerBackend()
        real.run(RunSpec(argv=["/bin/true"], workdir=tmp_path_factory.mktemp("probe")))
    except SandboxError as exc:
        pytest.skip(f"no Docker sandbox here ({exc}); CI builds one with scripts/ci-docker.sh")
    yield real
    real.close()


def leftovers(backend: RecordingBackend | RecordingDockerBackend) -> list[str]:
    """What the last run left running: processes of its uid, or its container."""
    if isinstance(backend, RecordingDockerBackend):
        # Containers are removed in the background after the run: give the engine 15 s.
        last = backend.last_container
        deadline = time.monotonic() + 15
        while last and backend.container_exists(last) and time.monotonic() < deadline:
            time.sleep(0.1)
        return [f"container {last}"] if last and backend.container_exists(last) else []
    # Zombies run no code. They show up under a slot's uid when an earlier test SIGKILLed a
    # worker mid-run (tests/ops): its orphans are reparented to this process (a subreaper) and
    # never reaped here. Reaping is tested in test_bwrap.py against our own children.
    return [p for p in processes_of(backend.last_uid) if not p.endswith("(zombie)")]


def groups_left(backend: RecordingBackend | RecordingDockerBackend) -> list[str]:
    """The cgroups and the scratch tmpfs this process's bubblewrap runs left behind (Docker's
    containers carry their own: see ``leftovers``). Other processes' live runs are not ours."""
    if not isinstance(backend, BubblewrapBackend):
        return []
    found = []
    if backend.cgroups is not None:
        found += [str(g) for g in backend.cgroups.groups() if f"-{os.getpid()}-" in g.name]
    if backend.last_uid is not None and (SCRATCH_DIR / str(backend.last_uid)).exists():
        found.append(str(SCRATCH_DIR / str(backend.last_uid)))
    return found


@pytest.fixture(params=["bubblewrap", pytest.param("docker", marks=pytest.mark.docker)])
def any_backend(request: pytest.FixtureRequest) -> RecordingBackend | RecordingDockerBackend:
    """Each test using it runs once per backend."""
    name = "backend" if request.param == "bubblewrap" else "docker_backend"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A workdir under pytest's 0700 temporary folders, as the grader's would be."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture(autouse=True)
def _host_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADER_SANDBOX_TEST_SECRET", HOST_SECRET)


def processes_of(uid: int | None) -> list[str]:
    """Host processes (zombies included) whose real uid is ``uid``: "pid name state" each."""
    if uid is None:
        return []
    return [f"{pid} {fields['Name'].strip()} {fields['State'].strip()}"
            for pid, fields in bwrap_supervise.processes_of(uid).items()]
