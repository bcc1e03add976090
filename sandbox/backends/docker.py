"""Docker backend: each run in a locked-down, single-use container taken from a warm pool.

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
container away. A
container is never reused: nothing a run leaves behind (processes, files, /dev/shm segments)
can reach another run. The pool is refilled by a background thread.

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

Modules: ``docker_pool`` (warm containers, orphan sweep), ``docker_stream`` (one exec's
streams, exit and kill), ``docker_transfer`` (files in and out), ``docker_fds`` (``pass_fds``),
``docker_verdict``; helpers shared with bubblewrap live in ``sandbox.backends.common``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox.backends.common import child_environment
from sandbox.backends.docker_fds import FdHandoff, translate_arg0
from sandbox.backends.docker_pool import (
    LABEL,
    MAX_POOL_KEYS,
    OWNER,
    PoolKey,
    Warm,
    WarmPool,
    pool_key,
)
from sandbox.backends.docker_stream import ExitWatch, cgroup_counters, kill_pid_namespace, pump
from sandbox.backends.docker_transfer import (
    FINISH_SCRIPT,
    SCRATCH_MOUNTS,
    STAGE_SCRIPT,
    STAGE_SECONDS,
    STAGED,
    TRANSFER_CAP,
    tar_of,
    untar_into,
)
from sandbox.backends.docker_verdict import disk_exceeded_result, exec_result
from sandbox.types import RunResult, RunSpec, SandboxError

log = logging.getLogger(__name__)
# Defaults. A deployment sets them (SANDBOX_DOCKER_IMAGE, SANDBOX_DOCKER_POOL) in
# grader/settings.py, which passes them as keyword arguments: the sandbox reads no environment.
IMAGE = "grader-sandbox:latest"
POOL_SIZE = 2  # warm containers per limits set
SANDBOX_UID = "65534:65534"


class _NotStaged(SandboxError):
    """The exec ended before staging said a word: the program never started."""


class DockerBackend(WarmPool):
    """Runs :class:`RunSpec` commands in single-use containers from a warm pool."""

    name = "docker"

    @classmethod
    def probe(cls) -> str:
        """Cheap health check (``/healthz``): the engine answers a ping; raises when it does
        not. Starts nothing."""
        import docker

        docker.from_env(timeout=3).ping()  # type: ignore[attr-defined]
        return "docker"

    def __init__(
        self, *, image: str = IMAGE, pool_size: int = POOL_SIZE, client: Any = None
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
                return self._run(handoff.wrap(spec))
        return self._run(spec)

    def _run(self, spec: RunSpec) -> RunResult:
        workdir = Path(spec.workdir).resolve()
        if not workdir.is_dir():
            raise SandboxError(f"workdir {workdir} is not a folder")
        key = pool_key(spec)
        binds = bool(spec.ro_binds or spec.rw_binds)
        warm = None if binds else self._take(key)
        if warm is not None:
            try:
                return self._run_in(warm, spec, workdir)
            except _NotStaged:
                # A warm container that died while it waited (the engine under load) takes the
                # exec with it before anything ran, and one that did not stage in time was
                # killed before the program started: running it once in a fresh container is
                # safe and is not a second attempt of the program.
                log.warning("a warm sandbox container did not stage the run; retrying fresh")
        return self._run_in(self._start(key, spec), spec, workdir)

    def _run_in(self, warm: Warm, spec: RunSpec, workdir: Path) -> RunResult:
        try:
            # Paths a bind covers inside /work are the bind's, as under bubblewrap.
            covered = [
                PurePosixPath(dst).relative_to("/work")
                for dst in [*spec.ro_binds.values(), *spec.rw_binds.values()]
                if PurePosixPath(dst).is_relative_to("/work")
            ]
            result = self._exec_run(warm.id, spec, tar_of(workdir, covered))
            if warm.id not in self._killed:
                # A run we killed took its container with it; its /work does not matter.
                # Without a copy back the space is measured from the host when it can see the
                # container's mounts (no exec: ~90 ms a run here), else by the finishing exec.
                full = None if not spec.discard_workdir else self._space_full(warm.id)
                if full is None:
                    full = self._finish(warm.id, workdir, copy_back=not spec.discard_workdir)
                if full:
                    result = disk_exceeded_result(result, spec)
            return result
        finally:
            self._killed.discard(warm.id)
            # Removal runs in the background: the run's processes are already dead (we waited
            # for the program, or _kill() killed them), and the engine can take seconds to
            # tear a container down under load; the next run need not wait for that.
            self._removals.submit(self._discard, warm.id)

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
        try:
            init_pid = int(api.inspect_container(container_id)["State"].get("Pid") or 0)
            if not kill_pid_namespace(init_pid):
                exec_id = api.exec_create(container_id, ["kill", "-9", "-1"], user=SANDBOX_UID)
                api.exec_start(exec_id["Id"], detach=True)
        except DockerException:
            pass  # already dead; _discard removes it

    # -- transfer -----------------------------------------------------------------------------

    def _space_full(self, container_id: str) -> bool | None:
        """``_finish``'s measure, read from the host through ``/proc/<init>/root`` (the
        container's own mounts; the run cannot move them: the root is read-only and they are
        mount points). None when this process cannot see them (a worker in a container)."""
        from docker.errors import DockerException

        try:
            pid = int(self._client.api.inspect_container(container_id)["State"].get("Pid") or 0)
            if pid <= 0:
                return None
            figures = [os.statvfs(f"/proc/{pid}/root{m}") for m in SCRATCH_MOUNTS]
        except (DockerException, OSError):
            return None
        return any(f.f_bfree == 0 or f.f_ffree == 0 for f in figures)

    def _finish(self, container_id: str, workdir: Path, *, copy_back: bool) -> bool:
        """After the program ended: measure ``/work``, ``/tmp`` and ``/dev/shm`` once more and,
        with ``copy_back``, stream ``/work`` back into ``workdir`` (one exec for both). Returns
        whether a run left one of them full (no free block or inode): the kernel refused its
        writes past the cap, and a program that ignored ENOSPC and exited 0 is caught here, as
        the bubblewrap backend's measure at exit does. The figures come from this exec's own
        stderr, which nothing of the run can write to."""
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

    # -- exec ---------------------------------------------------------------------------------

    def _exec_run(self, container_id: str, spec: RunSpec, work_tar: bytes) -> RunResult:
        limits = spec.limits
        cpu = max(1, int(limits.cpu_seconds + 0.999))
        argv = [translate_arg0(a) if i == 0 else a for i, a in enumerate(spec.argv)]
        # One exec per run (each costs ~60 ms here): a fixed script unpacks the workdir from
        # the first bytes of stdin, says so on stderr, then becomes the program under prlimit
        # with the rest of stdin. argv travels as positional parameters, never as shell text.
        wrapped = [
            "sh",
            "-c",
            STAGE_SCRIPT,
            "stage",
            str(len(work_tar)),
            f"--cpu={cpu}:{cpu + 1}",
            f"--fsize={limits.file_size_mb * 1024 * 1024}",
            "--core=0",
            "--nofile=256",
            "--",
            *argv,
        ]
        before = cgroup_counters(container_id)
        started = time.monotonic()
        try:
            code, out, err, killed = self._exec(
                container_id,
                wrapped,
                stdin=work_tar + spec.stdin,
                timeout=STAGE_SECONDS,
                cap=limits.output_bytes + len(STAGED),
                env=child_environment(spec),
                cwd=spec.cwd,
                then=(STAGED, limits.wall_seconds),
            )
        except SandboxError as exc:
            # The engine refused the exec (e.g. the container is not running): nothing ran.
            # Only this exec's refusal may be retried; one after the program (copying /work
            # back, measuring it) must not run the program again.
            raise _NotStaged(str(exc)) from exc
        if not err.startswith(STAGED):
            # The marker comes before the program runs, so only a staging failure lacks it.
            if killed:  # killed with its container before the program could start
                raise _NotStaged("the sandbox container did not start the program in time")
            if not err:  # not even tar's complaint: the exec never ran the staging script
                raise _NotStaged("the sandbox container ended before the run was staged")
            raise SandboxError(f"staging the workdir failed: {err[-500:]!r}")
        err = err[len(STAGED) :]
        wall = time.monotonic() - started
        after = cgroup_counters(container_id)
        if code == 127 and b"prlimit: failed to execute" in err:
            raise SandboxError(f"the sandbox image cannot run {argv[0]!r}")
        return exec_result(spec, code, out, err, killed, before, after, wall)

    def _exec(
        self,
        container_id: str,
        argv: list[str],
        *,
        stdin: bytes,
        timeout: float,
        cap: int,
        env: dict[str, str] | None = None,
        cwd: str = "/work",
        then: tuple[bytes, float] | None = None,
    ) -> tuple[int | None, bytes, bytes, str]:
        """Exec ``argv``; return (exit code, stdout, stderr, killed-for: "" | wall | output).

        ``then=(marker, seconds)``: once stderr starts with ``marker`` the deadline becomes
        ``seconds`` from that moment (the program's own wall clock starts after staging).
        """
        from docker.errors import DockerException

        api = self._client.api
        try:
            exec_id = api.exec_create(
                container_id,
                argv,
                stdin=True,
                user=SANDBOX_UID,
                stdout=True,
                stderr=True,
                environment=env or {},
                workdir=cwd,
            )["Id"]
            sock = api.exec_start(exec_id, socket=True)
        except DockerException as exc:  # nothing ran: e.g. the container is not running
            raise SandboxError(f"docker exec failed: {exc}") from exc
        raw: socket.socket = getattr(sock, "_sock", sock)
        ended = "error"
        out, err = bytearray(), bytearray()
        try:
            ended = pump(
                raw,
                stdin,
                out,
                err,
                cap,
                time.monotonic() + timeout,
                then,
                finished=ExitWatch(api, exec_id),
            )
        finally:
            # Close our end first: the engine does not finish a kill while it still has
            # output to hand us. The container is single-use: killing it is how the whole
            # tree dies (a daemon holding the streams open included).
            raw.close()
            if ended != "eof":
                self._kill(container_id)
        killed = ended if ended in ("wall", "output") else ""
        if killed:
            return None, bytes(out), bytes(err), killed
        for _ in range(50):  # the exit code lands a moment after the stream closes
            info = api.exec_inspect(exec_id)
            if not info.get("Running"):
                return info.get("ExitCode"), bytes(out), bytes(err), ""
            time.sleep(0.01)
        return info.get("ExitCode"), bytes(out), bytes(err), ""


__all__ = ["IMAGE", "LABEL", "MAX_POOL_KEYS", "OWNER", "POOL_SIZE", "SANDBOX_UID", "DockerBackend",
           "PoolKey", "Warm"]
