"""The Docker backend's execs: a run's one exec (reset the container if it ran an earlier run of
the submission, stage the workdir, then the program under ``prlimit``), and any exec's streams
pumped with caps and deadlines (see "Theory of operation" in ``sandbox.backends.docker``).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from sandbox.backends.common import child_environment
from sandbox.backends.docker_fds import translate_arg0
from sandbox.backends.docker_pool import EXTRA_PIDS, PoolKey, pool_key
from sandbox.backends.docker_runner import (
    RUNNER_MEMORY_MB,
    RUNNER_PROCESSES,
    Runner,
    RunnerError,
    RunnerTimeout,
)
from sandbox.backends.docker_stream import (
    ExitWatch,
    cgroup_counters,
    limits_settable,
    memory_usage,
    pump,
    reset_peak,
    set_limits,
    set_scratch,
)
from sandbox.backends.docker_transfer import (
    RESET,
    RESET_SCRIPT,
    STAGE_SCRIPT,
    STAGE_SECONDS,
    STAGED,
)
from sandbox.backends.docker_verdict import exec_result
from sandbox.types import RunResult, RunSpec, SandboxError

SANDBOX_UID = "65534:65534"
log = logging.getLogger(__name__)


class NotStaged(SandboxError):
    """The exec ended before staging said a word: the program never started."""


class Execs:
    """The exec half of ``DockerBackend`` (a mixin: the backend's constructor sets these up)."""

    _client: Any
    _used: set[str]  # containers that ran a run: the next run in one resets it first
    _limits_of: dict[str, PoolKey]  # the container-level limits a container has now
    _use_runner: bool  # a session's container serves its runs through one runner exec
    _runners: dict[str, Runner]
    _no_runner: set[str]  # session containers that cannot have one (exec path for them)
    _runners_lock: threading.Lock
    _init_pids: dict[str, int]  # host pid of a container's init (``init_pid``)

    def _kill(self, container_id: str) -> None:
        raise NotImplementedError

    # -- the runner (docker_runner): a session container's runs without an exec each ------------

    def runner_of(self, container_id: str) -> Runner | None:
        """The container's runner, if it has one that still works."""
        with self._runners_lock:
            runner = self._runners.get(container_id)
        return runner if runner is not None and not runner.closed else None

    def drop_runner(self, container_id: str) -> None:
        with self._runners_lock:
            runner = self._runners.pop(container_id, None)
            self._no_runner.discard(container_id)
        if runner is not None:
            runner.close()

    def _runner_for(self, container_id: str) -> Runner | None:
        """The runner of a session's container, started on its first run; None where the host
        cannot make room for it in the container's limits (the exec path serves that one)."""
        runner = self.runner_of(container_id)
        if runner is not None or not self._use_runner:
            return runner
        with self._runners_lock:
            if container_id in self._no_runner:
                return None
        if not limits_settable(container_id, self.init_pid(container_id)):
            with self._runners_lock:
                self._no_runner.add(container_id)
            return None
        try:
            runner = Runner(self._client.api, container_id, SANDBOX_UID)
        except RunnerError as exc:
            log.warning("no sandbox runner in a session container (%s): one exec per run", exc)
            with self._runners_lock:
                self._no_runner.add(container_id)
            return None
        with self._runners_lock:
            self._runners[container_id] = runner
        return runner

    def _runner_run(self, container_id: str, runner: Runner, spec: RunSpec,
                    work_tar: bytes) -> RunResult:
        """``_exec_run`` through the container's runner: the same reset, limits, figures and
        verdicts, with no exec (see ``docker_runner_agent`` for what the runner does)."""
        limits = spec.limits
        cpu = max(1, int(limits.cpu_seconds + 0.999))
        argv = [translate_arg0(a) if i == 0 else a for i, a in enumerate(spec.argv)]
        reset = container_id in self._used
        self._used.add(container_id)
        want = pool_key(spec)
        try:
            if reset:
                reply, _ = runner.request({"op": "reset"}, timeout=STAGE_SECONDS, cap=0)
                if reply.get("op") != "reset" or reply.get("ok") is not True:
                    raise NotStaged("the sandbox container could not be emptied for this run")
            have = self._limits_of.get(container_id, want)
            if have.tmp_size_mb != want.tmp_size_mb and not set_scratch(
                    self.init_pid(container_id), want.tmp_size_mb):
                raise NotStaged("the sandbox container's scratch space could not be resized")
            # The run's own limits with room for the runner beside it, then its figures start.
            if not set_limits(container_id, want.memory_mb + RUNNER_MEMORY_MB,
                              want.max_processes + EXTRA_PIDS + RUNNER_PROCESSES):
                raise NotStaged("the sandbox container's limits could not be set")
            self._limits_of[container_id] = want
            if not reset_peak(container_id):
                raise NotStaged("the cgroup's peak memory could not be reset for the run")
            before = cgroup_counters(container_id)
            baseline = memory_usage(container_id)  # the runner's own, not the run's
        except RunnerError as exc:
            self.drop_runner(container_id)
            raise NotStaged(str(exc)) from exc
        request = {"op": "run", "argv": argv, "env": child_environment(spec), "cwd": spec.cwd,
                   "cpu": cpu, "fsize": limits.file_size_mb * 1024 * 1024,
                   "cap": limits.output_bytes, "wall": limits.wall_seconds}
        started = time.monotonic()
        code: int | None = None
        out = err = b""
        killed = ""
        try:
            reply, payloads = runner.request(
                request, work_tar, spec.stdin, timeout=limits.wall_seconds + STAGE_SECONDS,
                cap=2 * (limits.output_bytes + 65536))
            code, killed, failed = _done(reply, payloads)
            out, err = payloads
        except RunnerTimeout:  # the runner did not stop the run itself: the host does
            self._kill(container_id)
            killed = "wall"
        except RunnerError as exc:
            self._kill(container_id)
            after = cgroup_counters(container_id)
            if after["oom"] > before["oom"]:  # the OOM killer took the runner along
                return exec_result(spec, 128 + 9, b"", b"", "", before, after,
                                   time.monotonic() - started)
            raise SandboxError(f"the sandbox runner failed during the run: {exc}") from exc
        else:
            if failed:
                raise SandboxError(f"the sandbox image cannot run {argv[0]!r}: {failed}")
        wall = time.monotonic() - started
        after = cgroup_counters(container_id)
        after["rss"] = max(0.0, after["rss"] - baseline)
        return exec_result(spec, code, out, err, killed, before, after, wall)

    def init_pid(self, container_id: str) -> int:
        """The host pid of the container's init, 0 when it is gone or the engine says none.

        Asked of the engine once per container (an API call costs the engine CPU, and a run
        needed it up to five times); the remembered pid is used again only while that process
        is still in the container's own cgroup, so a pid the kernel gave to another process
        after the container died is never taken for it."""
        from docker.errors import DockerException

        with self._runners_lock:
            known = self._init_pids.get(container_id, 0)
        if known and _in_cgroup_of(known, container_id):
            return known
        try:
            pid = int(self._client.api.inspect_container(container_id)["State"].get("Pid") or 0)
        except DockerException:
            return 0
        if pid > 0 and _in_cgroup_of(pid, container_id):
            with self._runners_lock:
                self._init_pids[container_id] = pid
        return pid

    def forget(self, container_id: str) -> None:
        """What is remembered of a container that is going away (its runner, its pid)."""
        self.drop_runner(container_id)
        with self._runners_lock:
            self._init_pids.pop(container_id, None)

    def _exec_run(self, container_id: str, spec: RunSpec, work_tar: bytes, *,
                  keep: bool = False) -> RunResult:
        """The run in the container: through its runner when the session keeps it (``keep``)
        and it can have one, else in one exec."""
        runner = self._runner_for(container_id) if keep else None
        if runner is not None:
            return self._runner_run(container_id, runner, spec, work_tar)
        limits = spec.limits
        cpu = max(1, int(limits.cpu_seconds + 0.999))
        argv = [translate_arg0(a) if i == 0 else a for i, a in enumerate(spec.argv)]
        reset = container_id in self._used
        self._used.add(container_id)
        marker = RESET + STAGED if reset else STAGED
        # One exec per run (each costs ~60 ms here): a fixed script (after the reset of a used
        # container) unpacks the workdir from the first bytes of stdin, says so on stderr, then
        # becomes the program under prlimit with the rest of stdin. argv travels as positional
        # parameters, never as shell text.
        wrapped = [
            "sh",
            "-c",
            (RESET_SCRIPT if reset else "") + STAGE_SCRIPT,
            "stage",
            str(len(work_tar)),
            f"--cpu={cpu}:{cpu + 1}",
            f"--fsize={limits.file_size_mb * 1024 * 1024}",
            "--core=0",
            "--nofile=256",
            "--",
            *argv,
        ]
        want = pool_key(spec)
        counted: list[dict[str, float]] = []

        def ready() -> bool:  # the reset is done: this run's limits and figures start here
            have = self._limits_of.get(container_id, want)
            if have != want:
                # A session's container with another run's limits (its build's): this run's,
                # set from the host (``DockerSession``).
                if have.tmp_size_mb != want.tmp_size_mb and not set_scratch(
                        self.init_pid(container_id), want.tmp_size_mb):
                    return False
                if not set_limits(container_id, want.memory_mb, want.max_processes + EXTRA_PIDS):
                    return False
                self._limits_of[container_id] = want
            counted.append(cgroup_counters(container_id))
            return reset_peak(container_id)

        if not reset:
            counted.append(cgroup_counters(container_id))
        started = time.monotonic()
        try:
            code, out, err, killed = self._exec(
                container_id,
                wrapped,
                stdin=work_tar + spec.stdin,
                timeout=STAGE_SECONDS,
                cap=limits.output_bytes + len(marker),
                env=child_environment(spec),
                cwd=spec.cwd,
                then=(marker, limits.wall_seconds),
                hold=(RESET, ready) if reset else None,
            )
        except SandboxError as exc:
            # The engine refused the exec (e.g. the container is not running), or the reset
            # failed: nothing ran. Only this exec's refusal may be retried; one after the
            # program (copying /work back, measuring it) must not run the program again.
            raise NotStaged(str(exc)) from exc
        if not err.startswith(marker):
            # The marker comes before the program runs, so only a staging failure lacks it.
            if killed:  # killed with its container before the program could start
                raise NotStaged("the sandbox container did not start the program in time")
            if not err or (reset and not err.startswith(RESET)):
                # not even tar's complaint (the exec never ran the staging script), or the
                # container could not be emptied for this run
                raise NotStaged("the sandbox container ended before the run was staged")
            raise SandboxError(f"staging the workdir failed: {err[-500:]!r}")
        err = err[len(marker) :]
        wall = time.monotonic() - started
        after = cgroup_counters(container_id)
        if code == 127 and b"prlimit: failed to execute" in err:
            raise SandboxError(f"the sandbox image cannot run {argv[0]!r}")
        return exec_result(spec, code, out, err, killed, counted[0], after, wall)

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
        hold: tuple[bytes, Callable[[], bool]] | None = None,
    ) -> tuple[int | None, bytes, bytes, str]:
        """Exec ``argv``; return (exit code, stdout, stderr, killed-for: "" | wall | output).

        ``then=(marker, seconds)``: once stderr starts with ``marker`` the deadline becomes
        ``seconds`` from that moment (the program's own wall clock starts after staging).
        ``hold``: stdin waits for a marker and a host step (``pump``); SandboxError when that
        step refused (the container is killed: nothing of the run started).
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
                hold=hold,
            )
        finally:
            # Close our end first: the engine does not finish a kill while it still has
            # output to hand us. Killing the container's processes is how the whole tree dies
            # (a daemon holding the streams open included); the container goes after.
            raw.close()
            if ended != "eof":
                self._kill(container_id)
        if ended == "refused":
            raise SandboxError("the cgroup's peak memory could not be reset for the run")
        killed = ended if ended in ("wall", "output") else ""
        if killed:
            return None, bytes(out), bytes(err), killed
        for _ in range(50):  # the exit code lands a moment after the stream closes
            info = api.exec_inspect(exec_id)
            if not info.get("Running"):
                return info.get("ExitCode"), bytes(out), bytes(err), ""
            time.sleep(0.01)
        return info.get("ExitCode"), bytes(out), bytes(err), ""


def _in_cgroup_of(pid: int, container_id: str) -> bool:
    try:
        with open(f"/proc/{pid}/cgroup") as fh:  # noqa: PTH123
            return container_id in fh.read()
    except OSError:
        return False


def _done(reply: dict[str, Any], payloads: list[bytes]) -> tuple[int | None, str, str]:
    """(exit status, killed, exec failure) of a runner's answer to ``run``, checked."""
    code, killed, failed = reply.get("code"), reply.get("killed"), reply.get("exec_failed")
    if (reply.get("op") != "done" or len(payloads) != 2 or not isinstance(code, int)
            or isinstance(code, bool) or not 0 <= code <= 255
            or killed not in ("", "wall", "output") or not isinstance(failed, str)):
        raise RunnerError("the sandbox runner sent a malformed answer")
    return (None if killed else code), str(killed), failed[:500]


__all__ = ["SANDBOX_UID", "Execs", "NotStaged"]
