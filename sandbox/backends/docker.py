"""Docker backend: runs in locked-down containers taken from a warm pool, one per run, or one
per submission (and set of limits) within a session.

Theory of operation
-------------------
A container is started ahead of time (``sleep infinity`` under docker-init) with: no network,
a read-only root, size-capped tmpfs for ``/work``, ``/tmp`` and ``/dev/shm``, memory = memory+swap
(no swap), a pids limit, every capability dropped, ``no-new-privileges``, uid 65534 and no core
dumps. Those are the container-level limits; containers are pooled per distinct set of them
(``_PoolKey``), so a run normally pays no container start.

``run()`` takes a warm container, streams the workdir into ``/work`` with ``tar`` (an exec), execs
the program under ``prlimit`` (CPU seconds, file size, open files: the per-run rlimits) with the
spec's stdin, reads the multiplexed stdout/stderr with caps and the wall clock, then measures
``/work``, ``/tmp`` and ``/dev/shm`` again (one left full is OUTPUT_LIMIT, even for a program
that ignored ENOSPC and exited 0) and streams ``/work`` back (so a build's output reaches the
next run), in one exec; a run whose ``/work`` is discarded is measured from the host instead,
through the container's ``/proc/<pid>/root``, where this process can see it. Then it throws the
container away. The pool is refilled by a background thread.

``session()`` (``docker_session``; ``sandbox.grade`` opens one per submission) keeps the
container of a submission's run for that submission's next run: the run's one exec then first
kills every process of the sandbox uid, empties ``/work``, ``/tmp``, ``/dev/shm`` and the uid's
IPC, and waits while the host gives the container this run's memory, pids and scratch limits
where they differ (a build's), starts the cgroup's peak memory again and reads its counters
(``docker_transfer.RESET_SCRIPT``, ``pump``'s ``hold``), then stages and runs as above: still
one exec a run, and no container start or removal. Each run keeps its own
rlimits, wall clock, caps and figures (CPU and OOM kills as deltas, peak memory since the
reset). A run killed for time or output, or a container that cannot be reset, goes down and
the next run takes a fresh one; the session's containers are removed when it ends. A container
never serves two submissions: nothing one leaves behind (processes, files, /dev/shm segments)
can reach another's runs.

Where this process can set a container's limits from the host (root on the host: the usual
worker), a session's container is served by one exec for all its runs instead of one per run
(an exec costs the engine ~80 ms of CPU here): a runner (``docker_runner``, in-container side
``docker_runner_agent``) started on its first run does the same reset, staging, rlimits, caps
and wall clock for each run, and the measure at exit, as requests over that exec's streams
(the copy back of a build's ``/work`` stays an exec, which streams it); the host still sets
the limits (with room for the runner: 24 MB, one
process), reads the counters, keeps its own deadline and trusts nothing it says more than a
program's output. A run the runner stopped for time or output leaves the container to the next
run, whose reset checks that nothing is left. ``DockerBackend(runner=False)``, or a worker that
cannot set the limits, keeps the exec path.

A spec with binds (``ro_binds``/``rw_binds``) cannot use a pre-started container, so it gets a
cold one with those binds. ``pass_fds`` cross into the container the way they cross between
any two processes of one kernel: a host thread hands them over SCM_RIGHTS on a unix socket
bound into the container, where a small shim puts them at their numbers and execs the program
(``_FdHandoff``). Binds and that socket need the worker and the engine to share paths: a
worker in a container mounts its temporary folder at the same path as on the host.

Threat model: as for bubblewrap (see ``sandbox.backends.bwrap``), with the kernel boundary given
by namespaces + cgroups + Docker's default seccomp profile. Containers carry the label
``grader.sandbox.owner=<host>:<pid>``; a new backend removes containers whose owner process is
gone, so a killed worker leaves nothing running for long.

Usage figures: ``cpu_seconds`` and ``max_rss_kb`` come from the container's cgroup v1 counters
when the host exposes them (cpuacct.usage, memory.max_usage_in_bytes, which counts tmpfs pages
too), else 0. A program killed by the kernel OOM killer is recognized by the cgroup's oom_kill
counter.

Modules: ``docker_pool`` (warm containers, orphan sweep), ``docker_session`` (a submission's
containers), ``docker_exec`` (a run's exec), ``docker_stream`` (one exec's streams, exit and
kill), ``docker_transfer`` (files in and out, the reset), ``docker_fds`` (``pass_fds``),
``docker_verdict``, ``docker_runner`` and ``docker_runner_agent`` (a session container's runs
without an exec each); helpers shared with bubblewrap live in ``sandbox.backends.common``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox.backends.docker_exec import SANDBOX_UID, Execs, NotStaged
from sandbox.backends.docker_fds import FdHandoff
from sandbox.backends.docker_pool import (
    LABEL,
    MAX_POOL_KEYS,
    OWNER,
    PoolKey,
    Warm,
    WarmPool,
    pool_key,
)
from sandbox.backends.docker_runner import Runner, RunnerError
from sandbox.backends.docker_session import DockerSession
from sandbox.backends.docker_stream import kill_pid_namespace, limits_settable, reset_peak
from sandbox.backends.docker_transfer import (
    FINISH_SCRIPT,
    SCRATCH_MOUNTS,
    TRANSFER_CAP,
    tar_of,
    untar_into,
)
from sandbox.backends.docker_verdict import disk_exceeded_result
from sandbox.types import RunResult, RunSpec, SandboxError

log = logging.getLogger(__name__)
# Defaults. A deployment sets them (SANDBOX_DOCKER_IMAGE, SANDBOX_DOCKER_POOL) in
# grader/settings.py, which passes them as keyword arguments: the sandbox reads no environment.
IMAGE = "grader-sandbox:latest"
POOL_SIZE = 2  # warm containers per limits set


class DockerBackend(WarmPool, Execs):
    """Runs :class:`RunSpec` commands in containers from a warm pool: one per run, or one per
    submission and set of limits within a :meth:`session`."""

    name = "docker"

    @classmethod
    def probe(cls) -> str:
        """Cheap health check (``/healthz``): the engine answers a ping; raises when it does
        not. Starts nothing."""
        import docker

        docker.from_env(timeout=3).ping()  # type: ignore[attr-defined]
        return "docker"

    def __init__(
        self, *, image: str = IMAGE, pool_size: int = POOL_SIZE, client: Any = None,
        runner: bool = True,
    ) -> None:
        from docker.errors import DockerException, ImageNotFound

        import docker

        try:
            self._client = client or docker.from_env(timeout=60)  # type: ignore[attr-defined]
            self._client.images.get(image)
        except ImageNotFound:
            raise SandboxError(
                f"sandbox image {image} not found: run scripts/build-sandbox-image.sh"
            ) from None
        except DockerException as exc:
            raise SandboxError(f"cannot reach the Docker engine: {exc}") from exc
        self._image = image
        self._pool_size = pool_size
        self._pools: dict[PoolKey, deque[Warm]] = {}
        self._lock = threading.Lock()
        self._wanted = threading.Condition(self._lock)
        self._closed = False
        self._killed: set[str] = set()  # containers _kill() took down during their run
        self._used: set[str] = set()  # containers that ran a run and are not discarded yet
        self._limits_of: dict[str, PoolKey] = {}  # of a session's containers, where changed
        self._use_runner = runner
        self._runners: dict[str, Runner] = {}
        self._no_runner: set[str] = set()
        self._runners_lock = threading.Lock()
        self._init_pids: dict[str, int] = {}
        self._removals = ThreadPoolExecutor(max_workers=2, thread_name_prefix="docker-rm")
        self.remove_orphans()
        self._filler = threading.Thread(
            target=self._fill_forever, daemon=True, name="docker-pool-filler"
        )
        self._filler.start()

    def run(self, spec: RunSpec) -> RunResult:
        """Run ``spec`` in a fresh container; the container is gone when this returns."""
        if spec.pass_fds:
            with FdHandoff(spec.pass_fds) as handoff:
                return self._run(handoff.wrap(spec))[0]
        return self._run(spec)[0]

    @contextmanager
    def session(self) -> Iterator[DockerSession]:
        """The runs of one submission: in containers of its own, reset between runs, removed
        at the end (``sandbox.backends.docker_session``)."""
        scoped = DockerSession(self)
        try:
            yield scoped
        finally:
            scoped.close()

    def run_kept(self, spec: RunSpec, held: Warm | None) -> tuple[RunResult, Warm | None]:
        """Run ``spec`` (no binds, no ``pass_fds``) in ``held``, a container a run of the same
        session left, else in a fresh one; return the result and the container to keep for the
        session's next run with these limits (None: it was killed, or is gone)."""
        return self._run(spec, held, keep=True)

    def discard_later(self, container_id: str) -> None:
        """Remove a container in the background: its processes are dead or about to be (we
        waited for the program, or _kill() killed them), and the engine can take seconds to
        tear a container down under load; the next run need not wait for that."""
        self._used.discard(container_id)
        self._limits_of.pop(container_id, None)
        self.forget(container_id)
        try:
            self._removals.submit(self._discard, container_id)
        except RuntimeError:  # the backend was closed (a session that ended after it)
            self._discard(container_id)

    def _run(self, spec: RunSpec, held: Warm | None = None, *,
             keep: bool = False) -> tuple[RunResult, Warm | None]:
        workdir = Path(spec.workdir).resolve()
        if not workdir.is_dir():
            raise SandboxError(f"workdir {workdir} is not a folder")
        key = pool_key(spec)
        if held is not None:
            try:
                return self._run_in(held, spec, workdir, keep=keep)
            except NotStaged:  # the container could not be reset, or died: nothing ran yet
                log.warning("a sandbox container of this submission did not stage the run; "
                            "running it in a fresh one")
        binds = bool(spec.ro_binds or spec.rw_binds)
        warm = None if binds else self._take(key)
        if warm is not None:
            try:
                return self._run_in(warm, spec, workdir, keep=keep)
            except NotStaged:
                # A warm container that died while it waited (the engine under load) takes the
                # exec with it before anything ran, and one that did not stage in time was
                # killed before the program started: running it once in a fresh container is
                # safe and is not a second attempt of the program.
                log.warning("a warm sandbox container did not stage the run; retrying fresh")
        return self._run_in(self._start(key, spec), spec, workdir, keep=keep)

    def _run_in(self, warm: Warm, spec: RunSpec, workdir: Path, *,
                keep: bool = False) -> tuple[RunResult, Warm | None]:
        kept = False
        try:
            # Paths a bind covers inside /work are the bind's, as under bubblewrap.
            covered = [
                PurePosixPath(dst).relative_to("/work")
                for dst in [*spec.ro_binds.values(), *spec.rw_binds.values()]
                if PurePosixPath(dst).is_relative_to("/work")
            ]
            if keep:
                self._limits_of.setdefault(warm.id, warm.key)
            result = self._exec_run(warm.id, spec, tar_of(workdir, covered), keep=keep)
            if warm.id not in self._killed:
                # A run we killed took its container with it; its /work does not matter.
                # Without a copy back the space is measured from the host when it can see the
                # container's mounts (no exec: ~90 ms a run here), else by the finishing exec.
                full = None if not spec.discard_workdir else self._space_full(warm.id)
                if full is None:
                    full = self._finish(warm.id, workdir, copy_back=not spec.discard_workdir)
                if full:
                    result = disk_exceeded_result(result, spec)
                # Kept only where the next run's peak memory can be its own.
                kept = keep and warm.id not in self._killed and reset_peak(warm.id)
                if kept and warm.settable is None:
                    warm.settable = limits_settable(warm.id, self.init_pid(warm.id))
            return result, (warm if kept else None)
        finally:
            self._killed.discard(warm.id)
            if not kept:
                self.discard_later(warm.id)

    def close(self) -> None:
        """Stop the filler and remove the warm containers (tests, benchmarks, shutdown)."""
        with self._lock:
            self._closed = True
            warm = [w for pool in self._pools.values() for w in pool]
            self._pools.clear()
            self._wanted.notify_all()
        for w in warm:
            self._discard(w.id)
        self._removals.shutdown(wait=True)

    # -- container teardown -------------------------------------------------------------------

    def _kill(self, container_id: str) -> None:
        """Kill every process of the container, fast.

        ``docker kill`` waits (10 s, sometimes twice) for a program blocked writing output
        nobody reads any more, and now and then even after that program is dead; so the run's
        processes die here, without the engine: from the host through the container's pid
        namespace when this process can see it, else with ``kill -9 -1`` as the sandbox uid
        inside (which cannot touch root's pid 1). The container itself goes with the
        background removal (``_discard``), however long the engine takes.
        """
        from docker.errors import DockerException

        api = self._client.api
        self._killed.add(container_id)
        self.drop_runner(container_id)
        try:
            if not kill_pid_namespace(self.init_pid(container_id)):
                exec_id = api.exec_create(container_id, ["kill", "-9", "-1"], user=SANDBOX_UID)
                api.exec_start(exec_id["Id"], detach=True)
        except DockerException:
            pass  # already dead; _discard removes it

    # -- transfer -----------------------------------------------------------------------------

    def _space_full(self, container_id: str) -> bool | None:
        """``_finish``'s measure, read from the host through ``/proc/<init>/root`` (the
        container's own mounts; the run cannot move them: the root is read-only and they are
        mount points). None when this process cannot see them (a worker in a container)."""
        pid = self.init_pid(container_id)
        if pid <= 0:
            return None
        try:
            figures = [os.statvfs(f"/proc/{pid}/root{m}") for m in SCRATCH_MOUNTS]
        except OSError:
            return None
        return any(f.f_bfree == 0 or f.f_ffree == 0 for f in figures)

    def _finish(self, container_id: str, workdir: Path, *, copy_back: bool) -> bool:
        """After the program ended: measure ``/work``, ``/tmp`` and ``/dev/shm`` once more and,
        with ``copy_back``, stream ``/work`` back into ``workdir`` (one exec for both). Returns
        whether a run left one of them full (no free block or inode): the kernel refused its
        writes past the cap, and a program that ignored ENOSPC and exited 0 is caught here, as
        the bubblewrap backend's measure at exit does. The figures come from this exec's own
        stderr, which nothing of the run can write to; or, with nothing to copy back, from the
        container's runner when it has one (no exec)."""
        runner = None if copy_back else self.runner_of(container_id)
        if runner is not None:  # the measure only: a copy back streams through tar -c below
            try:
                reply, _ = runner.request({"op": "measure"}, timeout=60, cap=0)
                space = reply.get("space")
                if reply.get("op") != "measured" or not (
                        isinstance(space, list) and len(space) == len(SCRATCH_MOUNTS) and all(
                            isinstance(pair, list) and len(pair) == 2
                            and all(isinstance(n, int) and n >= 0 for n in pair)
                            for pair in space)):
                    raise RunnerError("the sandbox runner sent a malformed measure")
                return any(0 in pair for pair in space)
            except RunnerError as exc:
                log.warning("the sandbox runner did not measure a run (%s): one exec", exc)
                self.drop_runner(container_id)
        code, data, err, _ = self._exec(
            container_id,
            ["sh", "-c", FINISH_SCRIPT, "finish", "keep" if copy_back else "drop"],
            stdin=b"",
            timeout=60,
            cap=TRANSFER_CAP,
        )
        figures = err.split()
        full = len(figures) == 6 and all(f.isdigit() for f in figures)
        if not full:
            log.warning("could not measure a run's scratch space at exit: %r", err[-300:])
        if copy_back and code == 0:  # else the run left /work unreadable: keep the host copy
            untar_into(data, workdir)
        return full and any(int(f) == 0 for f in figures)


__all__ = ["IMAGE", "LABEL", "MAX_POOL_KEYS", "OWNER", "POOL_SIZE", "SANDBOX_UID", "DockerBackend",
           "DockerSession", "PoolKey", "Warm"]
