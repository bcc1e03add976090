"""One submission's runs in containers of its own: ``DockerBackend.session()`` (see "Theory of
operation" in ``sandbox.backends.docker``).

A :class:`DockerSession` is the ``Backend`` that ``sandbox.grade.grade`` hands to the build and
the tests of one submission (``sandbox.backends.session``). Its first run takes a warm container
as any run does, and keeps it when the run ends normally; each later run goes to that container,
which its one exec resets first (``docker_transfer.RESET_SCRIPT``: every process of the sandbox
uid killed, the scratch space and IPC emptied, the cgroup's peak memory started again). A run
whose container-level limits differ from the container's (the tests after the build) gets its
own in the same step, from the host: memory and pids in the cgroup (``set_limits``, cgroup v1),
the scratch size by a remount (``set_scratch``). One with another network, or where the host
cannot set them (a worker that is not root or cannot see the container's processes and
cgroups), gets a container of its own in the session (``MAX_KEYS`` at most). Every run keeps
its own rlimits, wall clock, output caps and verdict. A run killed for its time or output, or
one whose container cannot be reset, takes its container down; the next run takes a fresh one.
The session's containers are removed when it ends: a container never serves two submissions.

Runs with binds or ``pass_fds`` (the pytest harness's), runs of a session already ended, and
runs that find every container of the session busy (threads of one submission at once) with
``MAX_KEYS`` of them go the way of any run: a single-use container.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sandbox.backends.docker_pool import PoolKey, Warm, pool_key
from sandbox.types import RunResult, RunSpec

if TYPE_CHECKING:
    from sandbox.backends.docker import DockerBackend

MAX_KEYS = 3  # containers one submission holds at most (for its build's limits, its runs'...)


class DockerSession:
    """The runs of one submission, in containers it keeps until :meth:`close`.

    Compares and hashes as its backend, so what a caller keys by backend (the harness's warm
    trusted runs, which outlive a submission and run in single-use containers) stays shared.
    """

    name = "docker"

    def __init__(self, backend: DockerBackend) -> None:
        self._backend = backend
        self._lock = threading.Lock()
        self._held: list[Warm] = []  # idle containers of this submission
        self._busy = 0  # containers of this submission with a run in them now
        self._closed = False

    def run(self, spec: RunSpec) -> RunResult:
        """Run ``spec`` in this submission's container for its limits (see the module doc)."""
        if spec.pass_fds or spec.ro_binds or spec.rw_binds:
            return self._backend.run(spec)
        key = pool_key(spec)
        with self._lock:
            held = None if self._closed else self._pick(key)
            usable = held is not None or (
                not self._closed and len(self._held) + self._busy < MAX_KEYS)
            if held is not None:
                self._held.remove(held)
            if usable:
                self._busy += 1
        if not usable:
            return self._backend.run(spec)
        kept: Warm | None = None
        try:
            result, kept = self._backend.run_kept(spec, held)
            return result
        finally:
            with self._lock:
                self._busy -= 1
                if kept is not None and not self._closed:
                    self._held.append(kept)
                    kept = None
            if kept is not None:
                self._backend.discard_later(kept.id)

    def _pick(self, key: PoolKey) -> Warm | None:
        """An idle container for ``key``: one started with it, else one on the same network
        whose limits the host can set."""
        same = [w for w in self._held if w.key == key]
        near = [w for w in self._held if w.settable and w.key.network == key.network]
        found = same or near
        return found[0] if found else None

    def close(self) -> None:
        """End the session: its containers are removed (in the background); later runs are
        single-use."""
        with self._lock:
            self._closed = True
            held, self._held = self._held, []
        for warm in held:
            self._backend.discard_later(warm.id)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DockerSession):
            return self._backend is other._backend
        return self._backend is other

    def __hash__(self) -> int:
        return hash(self._backend)


__all__ = ["MAX_KEYS", "DockerSession"]
