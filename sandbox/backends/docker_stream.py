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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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
) -> str:
    """Feed stdin and demultiplex Docker's framed stdout/stderr until EOF, deadline or cap.

    Returns why it stopped: "eof", "exited" (see below), "wall" or "output".

    A program that exits while something it started (a daemon) keeps the streams open is done
    all the same: ``finished`` is asked every ``_EXIT_POLL_S`` and the container is thrown away
    with whatever is left in it.
    """
    raw.setblocking(False)
    sel = selectors.DefaultSelector()
    pending = memoryview(stdin)
    events = selectors.EVENT_READ | (selectors.EVENT_WRITE if pending else 0)
    sel.register(raw, events)
    if not pending:
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


__all__ = ["CGROUP_ROOT", "ExitWatch", "cgroup_counters", "kill_pid_namespace", "pump"]
