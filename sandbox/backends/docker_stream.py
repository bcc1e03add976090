"""The Docker backend's view of one exec: Docker's framed stdout/stderr pumped with caps and a
deadline, whether the exec'd program itself has exited, and the host-side tools that end a run
fast and measure it (its pid namespace, its cgroup's counters).
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox.backends.docker_transfer import SCRATCH_MOUNTS

CGROUP_ROOT = Path("/sys/fs/cgroup")
_EXIT_POLL_S = 0.1


class ExitWatch:
    """Has the exec'd program itself exited? Its host pid says so at once; the engine only
    once every holder of its output streams is gone (a daemon may hold them for ever)."""

    def __init__(self, api: Any, exec_id: str) -> None:
        self._api = api
        self._exec_id = exec_id
        self._pid = 0
        self._visible = True

    def __call__(self) -> bool:
        if not self._pid and self._visible:
            self._pid = int(self._api.exec_inspect(self._exec_id).get("Pid") or 0)
            # A worker inside a container cannot see the host's pids: ask the engine then.
            self._visible = bool(self._pid) and os.path.exists(f"/proc/{self._pid}")
        if self._visible:
            try:
                stat = Path(f"/proc/{self._pid}/stat").read_text()
            except OSError:
                return True
            return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")
        return not self._api.exec_inspect(self._exec_id).get("Running")


def pump(
    raw: socket.socket,
    stdin: bytes,
    out: bytearray,
    err: bytearray,
    cap: int,
    deadline: float,
    then: tuple[bytes, float] | None = None,
    finished: Callable[[], bool] | None = None,
    hold: tuple[bytes, Callable[[], bool]] | None = None,
) -> str:
    """Feed stdin and demultiplex Docker's framed stdout/stderr until EOF, deadline or cap.

    Returns why it stopped: "eof", "exited" (see below), "wall", "output" or "refused".

    A program that exits while something it started (a daemon) keeps the streams open is done
    all the same: ``finished`` is asked every ``_EXIT_POLL_S`` and the container is thrown away
    with whatever is left in it.

    ``hold=(marker, ready)``: no byte of stdin goes until stderr starts with ``marker``; then
    ``ready()`` runs, and stdin follows when it returns True ("refused" when it returns False).
    """
    raw.setblocking(False)
    sel = selectors.DefaultSelector()
    pending = memoryview(stdin)
    events = selectors.EVENT_READ | (selectors.EVENT_WRITE if pending and not hold else 0)
    sel.register(raw, events)
    if not pending and not hold:
        raw.shutdown(socket.SHUT_WR)
    buf = bytearray()
    next_poll = time.monotonic() + _EXIT_POLL_S
    exited = False
    try:
        while True:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                return "wall"
            if finished is not None and now >= next_poll:
                if exited:  # one more round after the exit to drain what was in flight
                    return "exited"
                exited = finished()
                next_poll = now + _EXIT_POLL_S
            for _, mask in sel.select(min(left, _EXIT_POLL_S)):
                if mask & selectors.EVENT_WRITE and pending:
                    try:
                        sent = raw.send(pending[:65536])
                    except (BlockingIOError, InterruptedError):
                        sent = 0
                    except OSError:  # the program closed stdin early: fine
                        pending = pending[len(pending) :]
                        sent = 0
                    pending = pending[sent:]
                    if not pending:
                        sel.modify(raw, selectors.EVENT_READ)
                        try:
                            raw.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                if mask & selectors.EVENT_READ:
                    try:
                        chunk = raw.recv(65536)
                    except (BlockingIOError, InterruptedError):
                        continue
                    if not chunk:
                        return "eof"
                    buf += chunk
                    while len(buf) >= 8:
                        stream, size = buf[0], struct.unpack(">I", buf[4:8])[0]
                        if len(buf) < 8 + size:
                            break
                        target = out if stream == 1 else err
                        target += buf[8 : 8 + size]
                        del buf[: 8 + size]
                        if hold is not None and err.startswith(hold[0]):
                            if not hold[1]():
                                return "refused"
                            hold = None
                            if pending:
                                sel.modify(raw, selectors.EVENT_READ | selectors.EVENT_WRITE)
                            else:
                                raw.shutdown(socket.SHUT_WR)
                        if then is not None and err.startswith(then[0]):
                            deadline, then = time.monotonic() + then[1], None
                        if len(target) > cap:
                            return "output"
    finally:
        sel.close()


def cgroup_counters(container_id: str) -> dict[str, float]:
    """CPU seconds, peak memory bytes and OOM kills of the container (cgroup v1, else zeros)."""
    counters = {"cpu": 0.0, "rss": 0.0, "oom": 0.0}
    for sub in ("cpuacct", "cpu,cpuacct"):
        path = CGROUP_ROOT / sub / "docker" / container_id / "cpuacct.usage"
        if path.exists():
            counters["cpu"] = int(path.read_text()) / 1e9
            break
    memory = CGROUP_ROOT / "memory" / "docker" / container_id
    try:
        counters["rss"] = float(int((memory / "memory.max_usage_in_bytes").read_text()))
        for line in (memory / "memory.oom_control").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill":
                counters["oom"] = float(value)
    except (OSError, ValueError):
        pass
    return counters


def memory_usage(container_id: str) -> float:
    """The container's memory use now, in bytes (cgroup v1 ``memory.usage_in_bytes``; 0 when
    there is no such counter)."""
    try:
        path = CGROUP_ROOT / "memory" / "docker" / container_id / "memory.usage_in_bytes"
        return float(int(path.read_text()))
    except (OSError, ValueError):
        return 0.0


def reset_peak(container_id: str) -> bool:
    """Start the container's peak memory (cgroup v1 ``memory.max_usage_in_bytes``) again from
    its present usage, so that the next run's figure is its own. True when done or when there is
    no such counter (``cgroup_counters`` reads 0 then); False when it is there but cannot be
    written (a worker that sees the host's cgroups read-only)."""
    try:
        _write(CGROUP_ROOT / "memory" / "docker" / container_id / "memory.max_usage_in_bytes", "0")
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def set_limits(container_id: str, memory_mb: int, pids: int) -> bool:
    """Give the container the memory limit (memory+swap the same: no swap) and pids limit the
    engine gives one started with them (cgroup v1, from the host). False when one of them cannot
    be written: a worker that cannot see them, or usage above the new limit that the kernel could
    not reclaim."""
    memory = CGROUP_ROOT / "memory" / "docker" / container_id
    pids_max = CGROUP_ROOT / "pids" / "docker" / container_id / "pids.max"
    try:
        names = ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"]
        if int((memory / names[0]).read_text()) < memory_mb << 20:
            names.reverse()  # memory+swap may never be below memory: raise it first
        for name in names:
            if name == "memory.limit_in_bytes" or (memory / name).exists():
                _write(memory / name, str(memory_mb << 20))
        _write(pids_max, str(pids))
    except (OSError, ValueError):
        return False
    return True


def set_scratch(init_pid: int, size_mb: int) -> bool:
    """Give the container's ``/work``, ``/tmp`` and ``/dev/shm`` tmpfs the size cap ``size_mb``
    (emptied by the reset just before), as the engine gives one started with it: a remount in
    its mount namespace, from a child of this process that runs nothing of the container's and
    keeps every other flag of each mount (nosuid, nodev, noexec...), checked after. False when
    it cannot (not root, the container's processes not visible)."""
    if init_pid <= 0 or os.geteuid() != 0:
        return False
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _REMOUNT, str(init_pid), str(size_mb),
             *SCRATCH_MOUNTS],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


# The remount: the flags statvfs reads are the MS_* flags of the same names but RELATIME.
_REMOUNT = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pid, size, mounts = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
if libc.setns(os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY), 0x20000) != 0:  # CLONE_NEWNS
    sys.exit(f"setns: {os.strerror(ctypes.get_errno())}")  # then root and cwd are the container's
KEEP = 1 | 2 | 4 | 8 | 16 | 64 | 1024 | 2048  # RDONLY NOSUID NODEV NOEXEC ... NODIRATIME
for mount in mounts:
    before = os.statvfs(mount)
    flags = 32 | (before.f_flag & KEEP) | (1 << 21 if before.f_flag & 4096 else 0)  # REMOUNT,
    options = f"size={size}m".encode()  # and ST_RELATIME (4096) is MS_RELATIME (1 << 21)
    if libc.mount(None, mount.encode(), None, flags, options) != 0:
        sys.exit(f"{mount}: {os.strerror(ctypes.get_errno())}")
    after = os.statvfs(mount)
    if after.f_flag != before.f_flag or after.f_blocks * after.f_frsize != size << 20:
        sys.exit(f"{mount}: not as asked after the remount")
"""


def limits_settable(container_id: str, init_pid: int) -> bool:
    """Whether ``set_limits`` and ``set_scratch`` can work for this container (its cgroup files
    are writable, its mount namespace is there to enter)."""
    return os.geteuid() == 0 and init_pid > 0 and os.path.exists(f"/proc/{init_pid}/ns/mnt") \
        and all(os.access(CGROUP_ROOT / sub / "docker" / container_id / name, os.W_OK)
                for sub, name in (("memory", "memory.limit_in_bytes"), ("pids", "pids.max")))


def _write(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)  # never O_CREAT: a cgroup's own file
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def kill_pid_namespace(init_pid: int) -> bool:
    """SIGKILL every process in the pid namespace of host pid ``init_pid`` but init itself.

    False when this process cannot see that namespace (a worker running in a container).
    """
    try:
        target = os.readlink(f"/proc/{init_pid}/ns/pid")
    except OSError:
        return False
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == init_pid:
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") == target:
                os.kill(int(entry), signal.SIGKILL)
        except OSError:
            continue
    return True


__all__ = ["CGROUP_ROOT", "ExitWatch", "cgroup_counters", "kill_pid_namespace",
           "limits_settable", "memory_usage", "pump", "reset_peak", "set_limits", "set_scratch"]
