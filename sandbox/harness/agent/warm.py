"""The trusted zygote kept warm: one sandbox run serves the submissions of one package version.

The runner (``sandbox/harness/warm.py``) starts ``trusted.py`` with a ``pool_fd`` instead of a
``ctl_fd``: a SOCK_SEQPACKET socket on which each message is one job (``{"op": "job",
"nodeids": [...], "wall": seconds}``) carrying, with SCM_RIGHTS, the ``ctl`` socket of that job.
The zygote gets as far as it gets for a single submission (pytest imported; the session started
and the tests collected with stand-ins where ``trusted.py`` says that is safe) and then, at the
point where it would serve the tests, :func:`loop` forks one *job process* per job. The job
process is exactly what a trusted run of that submission would have been from there on
(``Zygote.serve`` with the job's ``ctl``: a forked child per test). Nothing of a job reaches
the next: the parent never runs a test or touches a student's socket, and after each job it

* kills every other process of the sandbox (``kill(-1)`` spares only itself and pid 1) and
  waits until ``/proc`` shows them gone;
* removes whatever appeared in ``/work``, ``/tmp`` and ``/dev/shm`` since the zygote was ready
  (the assertion-rewritten tests' bytecode it made itself stays) and empties the student's
  file again;
* then says ``done`` with how the job process ended, its CPU time and whether it may serve
  again. Anything unexpected (a wipe that fails, a process that will not die) ends the zygote
  instead: the runner starts a fresh one.

The job's time is bounded here too (its ``wall``, the same budget a trusted run of its own had)
and its CPU by RLIMIT_CPU, set in the job process (a forked process starts at zero).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import resource
import select
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

from .wire import Peer

MAX_JOB_MESSAGE = 1 << 20
WIPED = ("/work", "/tmp", "/dev/shm")  # noqa: S108 - the sandbox's own writable folders
KILL_WAIT = 2.0  # seconds for the killed processes of a job to be gone


class Serves(Protocol):
    config: dict[str, Any]
    ctl: Peer
    ctl_sock: socket.socket

    def serve(self, shared: Any) -> bool | None: ...


def send(pool: socket.socket, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        pool.send(json.dumps(message).encode())


def loop(zygote: Serves, shared: Any, pool: socket.socket,
         reset: Callable[[], None]) -> None:
    """Serve jobs until the runner goes away. Returns only in a test's child (which goes on
    with ``shared``); the job processes and this process end with ``os._exit``."""
    keep = {folder: _names(folder) for folder in WIPED}
    send(pool, {"op": "ready"})
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(pool, MAX_JOB_MESSAGE, 1)
        except OSError:
            data, fds = b"", []
        if not data:
            _kill_others()
            os._exit(0)  # the runner closed the pool: nothing is left to serve
        try:
            job = json.loads(data)
            nodeids, wall = list(job["nodeids"]), float(job["wall"])
            if len(fds) != 1 or not all(isinstance(n, str) for n in nodeids):
                raise ValueError("malformed job")
        except (ValueError, KeyError, TypeError):
            for fd in fds:
                os.close(fd)
            send(pool, {"op": "done", "ok": False, "again": False, "why": "malformed job"})
            os._exit(0)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            pool.close()
            _job(zygote, shared, fds[0], nodeids, wall)
            return  # a test's child: it runs its test in ``shared``
        os.close(fds[0])
        status, cpu, timed_out = _wait(pid, started + wall, pool)
        again = _kill_others() and _wipe(keep, reset)
        send(pool, {"op": "done", "ok": True, "again": again, "timed_out": timed_out,
                    "exit_code": os.waitstatus_to_exitcode(status) if os.WIFEXITED(status)
                    else None,
                    "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                    "seconds": round(time.monotonic() - started, 4), "cpu": round(cpu, 4)})
        if not again:
            os._exit(0)


def _job(zygote: Serves, shared: Any, fd: int, nodeids: list[str], wall: float) -> None:
    """In the job process: serve one submission's tests as its own trusted run would."""
    seconds = max(1, math.ceil(wall))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    zygote.ctl_sock = socket.socket(fileno=fd)
    zygote.ctl = Peer(zygote.ctl_sock)
    zygote.config = {**zygote.config, "nodeids": nodeids}
    try:
        if zygote.serve(shared) is None:
            return
    except BaseException:
        import traceback

        with contextlib.suppress(BaseException):
            zygote.ctl.send({"op": "fatal", "output": traceback.format_exc()[-8000:]})
        os._exit(1)
    os._exit(0)


def _wait(pid: int, deadline: float, pool: socket.socket) -> tuple[int, float, bool]:
    """The job process's wait status and CPU seconds (its reaped children's included); killed
    at ``deadline`` or when the runner goes away."""
    try:
        exited: int | None = os.pidfd_open(pid)  # readable once the job process has ended
    except OSError:  # an older kernel: poll
        exited = None
    try:
        while True:
            found, status, usage = os.wait4(pid, os.WNOHANG)
            if found:
                return status, usage.ru_utime + usage.ru_stime, False
            left = deadline - time.monotonic()
            if left <= 0:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                _, status, usage = os.wait4(pid, 0)
                return status, usage.ru_utime + usage.ru_stime, True
            watched = [pool.fileno()] if exited is None else [pool.fileno(), exited]
            ready = select.select(watched, [], [], min(left, 0.05 if exited is None else left))[0]
            # A readable pool here is EOF (the runner sends no job while one runs): stop.
            if pool.fileno() in ready:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                os.wait4(pid, 0)
                _kill_others()
                os._exit(0)
    finally:
        if exited is not None:
            os.close(exited)


def _kill_others() -> bool:
    """Kill every process of the sandbox this one may signal but itself and pid 1; True once
    they are gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)
    mine = {os.getpid(), 1}
    deadline = time.monotonic() + KILL_WAIT
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in mine
                  and _ours(int(p)) and not _is_zombie(p)]
        if not others:
            return True
        time.sleep(0.005)
    return False


def _ours(pid: int) -> bool:
    """Whether this process may signal ``pid``: every process a job starts may; the
    container's own (Docker's init and idle ``sleep``, root's) may not, and are not a job's."""
    try:
        os.kill(pid, 0)
    except PermissionError:
        return False
    except ProcessLookupError:
        return False
    return True


def _is_zombie(pid: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rpartition(b")")[2].split()[0] in (b"Z", b"X")
    except (OSError, IndexError):
        return True  # gone while we looked


def _names(folder: str) -> set[str]:
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()


def _wipe(keep: dict[str, set[str]], reset: Callable[[], None]) -> bool:
    """Remove what the job left in the writable folders; False when something stays."""
    try:
        for folder, names in keep.items():
            for name in _names(folder) - names:
                _remove(os.path.join(folder, name))
            if _names(folder) - names:
                return False
        reset()
    except Exception:  # noqa: BLE001 - a zygote that cannot clean up serves no more
        print("warm zygote: clean-up failed", file=sys.stderr)
        return False
    return True


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        for folder, dirs, _ in os.walk(path):  # a folder the tests made read-only
            for name in dirs:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(folder, name), 0o700)
        with contextlib.suppress(OSError):
            os.chmod(path, 0o700)
        shutil.rmtree(path)
    else:
        os.unlink(path)


__all__ = ["loop", "send"]
