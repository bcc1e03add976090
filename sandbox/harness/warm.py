"""Trusted runs kept warm: one sandbox run of ``agent/trusted.py`` serves a package's
submissions one after another, in this process.

A trusted run spends most of its time before its first test: a sandbox, an interpreter, pytest
imported, the session started and (where that is safe) the tests collected; none of it depends
on the submission. So :func:`acquire` keeps one such run per package version, test file and
limits (:class:`Warm`, at most ``MAX_WARM`` per process, each idle at most ``IDLE_SECONDS`` and
alive at most ``LIFETIME``), and each submission's tests become one *job* of it: a process
forked from the ready zygote that does exactly what a trusted run of its own would have done
from there (``agent/warm.py`` says what is reset between jobs and how). A job talks to the
runner through a ``ctl`` socket of its own, as a trusted run does; :class:`WarmRun` is the
:class:`~sandbox.harness.job.TrustedRun` of a job.

Only the trusted side is kept: every test still gets a freshly forked student process from a
student sandbox of its submission. A warm run that fails to start, dies, or cannot clean up is
dropped, and the job runs in a trusted run of its own instead (``job.py``).
"""

from __future__ import annotations

import json
import select
import socket
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Any

from sandbox import fstree
from sandbox.harness.agent.wire import (
    START_SLACK,
    ChannelClosed,
    ChannelTimeout,
    Message,
    Peer,
    ProtocolError,
)
from sandbox.types import Backend, Limits, RunResult, RunSpec, Verdict

MAX_WARM = 2  # warm runs per process (a celery worker process grades one submission at a time)
IDLE_SECONDS = 120.0  # an unused warm run is closed after this
LIFETIME = 900.0  # a warm run's own wall clock; no job starts that could outlast it
READY_SECONDS = 60.0  # for a new warm run to get ready
POOL_MESSAGE = 1 << 16

ENABLED = True  # jobs run in warm trusted runs; False: a trusted run each (``configure``)
_LOCK = threading.Lock()
_WARM: OrderedDict[tuple[Any, ...], Warm] = OrderedDict()
_LIVE: set[Warm] = set()  # every warm run whose sandbox run or folder is not gone yet


class Warm:
    """One warm trusted run and the pool socket its jobs are sent on."""

    def __init__(self, backend: Backend, key: tuple[Any, ...], spec: RunSpec,
                 root: Path) -> None:
        self.backend, self.key, self.root = backend, key, root
        self.ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        spec = replace(spec, pass_fds=(theirs.fileno(),), stdin=json.dumps(
            {**json.loads(spec.stdin), "pool_fd": theirs.fileno()}).encode())
        self.started = time.monotonic()
        self.used = self.started
        self.busy = False
        self.dead = False
        self.closed = False
        self.ended: RunResult | None = None
        self.jobs = 0
        self.gone = threading.Event()  # its sandbox run ended and its folder is removed
        with _LOCK:
            _LIVE.add(self)
        self._thread = threading.Thread(target=self._run, args=(spec, theirs), daemon=True,
                                        name="warm-trusted")
        self._thread.start()

    def _run(self, spec: RunSpec, theirs: socket.socket) -> None:
        try:
            self.ended = self.backend.run(spec)
        except Exception as exc:  # noqa: BLE001 - reported to the job that waits on it
            self.ended = RunResult(Verdict.SANDBOX_ERROR, None, None, b"", b"", 0.0, 0.0, 0,
                                   message=f"sandbox error: {exc}")
        finally:
            theirs.close()
            self.dead = True

    def wait_ready(self) -> bool:
        message = self.receive(READY_SECONDS)
        if message is None or message.get("op") != "ready":
            self.close()
            return False
        return True

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next pool message, or None (EOF, malformed, out of time)."""
        try:
            if not select.select([self.ours], [], [], max(0.0, timeout))[0]:
                return None
            data = self.ours.recv(POOL_MESSAGE)
            message = json.loads(data) if data else None
        except (OSError, ValueError):
            return None
        return message if isinstance(message, dict) else None

    def idle(self, now: float) -> bool:
        """Unused for more than ``IDLE_SECONDS`` at ``now``: to be closed."""
        return not self.busy and now - self.used > IDLE_SECONDS

    def usable(self, now: float, wall: float) -> bool:
        return not self.dead and now - self.started + wall + 30 < LIFETIME

    def start(self, nodeids: list[str], wall: float, job_limits: Limits) -> WarmRun:
        ours, theirs = socket.socketpair()
        try:
            socket.send_fds(self.ours, [json.dumps(
                {"op": "job", "nodeids": nodeids, "wall": wall}).encode()], [theirs.fileno()])
        except OSError:
            self.dead = True
        finally:
            theirs.close()
        self.jobs += 1
        return WarmRun(self, ours, job_limits)

    def close(self) -> None:
        """End the warm run: its zygote sees EOF and kills everything of it."""
        if self.closed:
            return
        self.closed = self.dead = True
        self.ours.close()
        with _LOCK:
            if _WARM.get(self.key) is self:
                del _WARM[self.key]
        threading.Thread(target=self._discard, daemon=True).start()

    def _discard(self) -> None:
        self._thread.join(LIFETIME)
        fstree.discard(self.root)
        with _LOCK:
            _LIVE.discard(self)
        self.gone.set()


class Ctl:
    """The runner's end of a trusted process's ``ctl`` socket (a trusted run's or a job's)."""

    ours: socket.socket
    peer: Peer

    def recv(self) -> Message | None:
        """The next message, or None once the run is over (or spoke out of turn)."""
        try:
            return self.peer.recv()
        except ChannelClosed:
            return None
        except (ProtocolError, ChannelTimeout) as exc:
            return {"op": "malformed", "output": str(exc)}

    def send_fds(self, *fds: int) -> None:
        socket.send_fds(self.ours, [b"F"], list(fds))


class WarmRun(Ctl):
    """One job of a warm run, with the same face as a trusted run of its own."""

    def __init__(self, warm: Warm, ours: socket.socket, limits: Limits) -> None:
        self.warm, self.ours = warm, ours
        self.wall = limits.wall_seconds
        self.started = time.monotonic()
        self.peer = Peer(ours, max_frame=1 << 20)
        self.peer.deadline = self.started + self.wall + 30

    def finish(self) -> RunResult:
        """How the job ended; the warm run goes back to the pool, or is closed."""
        self.ours.close()  # a job still waiting for us gets EOF and stops
        left = self.started + self.wall + START_SLACK + 30 - time.monotonic()
        message = self.warm.receive(left)
        seconds = round(time.monotonic() - self.started, 4)
        if message is None or message.get("op") != "done" or not message.get("ok"):
            self.warm.close()
            ended = self.warm.ended
            if ended is not None:
                return ended
            return RunResult(Verdict.SANDBOX_ERROR, None, None, b"", b"", seconds, 0.0, 0,
                             message="the warm test runner stopped answering")
        with _LOCK:
            kept = message.get("again") is True and _WARM.get(self.warm.key) is self.warm
            if kept:
                self.warm.used = time.monotonic()
                self.warm.busy = False
        if not kept:  # it cannot clean up, or another thread's warm run took its place
            self.warm.close()
        return _result(message, seconds)


def _result(message: dict[str, Any], seconds: float) -> RunResult:
    exit_code, sig = message.get("exit_code"), message.get("signal")
    cpu = message.get("cpu")
    cpu = float(cpu) if isinstance(cpu, int | float) else 0.0
    if message.get("timed_out") is True:
        return RunResult(Verdict.TIMEOUT, None, 9, b"", b"", seconds, cpu, 0,
                         message="The test runner ran out of time.")
    if exit_code == 0:
        return RunResult(Verdict.PASSED, 0, None, b"", b"", seconds, cpu, 0)
    if sig == 24:  # SIGXCPU: the job's RLIMIT_CPU
        return RunResult(Verdict.TIMEOUT, None, sig, b"", b"", seconds, cpu, 0,
                         message="The test runner ran out of CPU time.")
    if sig == 9:  # not ours (we kill only at the deadline): the memory group's OOM killer
        return RunResult(Verdict.MEMORY, None, sig, b"", b"", seconds, cpu, 0,
                         message="The test runner was killed, most likely out of memory.")
    how = f"signal {sig}" if sig is not None else f"exit code {exit_code}"
    return RunResult(Verdict.RUNTIME_ERROR, exit_code if isinstance(exit_code, int) else None,
                     sig if isinstance(sig, int) else None, b"", b"", seconds, cpu, 0,
                     message=f"the test runner ended with {how}")


def close_idle(now: float | None = None) -> int:
    """Close the warm runs idle for more than ``IDLE_SECONDS`` at ``now``; how many."""
    now = time.monotonic() if now is None else now
    with _LOCK:
        idle = [w for w in _WARM.values() if w.idle(now)]
        for warm in idle:
            del _WARM[warm.key]
    for warm in idle:
        warm.close()
    return len(idle)


def _reap() -> None:
    """Close idle warm runs even when no job comes to notice them: a worker with nothing to
    grade holds no sandbox for long."""
    while True:
        time.sleep(IDLE_SECONDS / 4)
        close_idle()


_REAPER: threading.Thread | None = None


def _start_reaper() -> None:
    global _REAPER
    with _LOCK:
        if _REAPER is None or not _REAPER.is_alive():
            _REAPER = threading.Thread(target=_reap, daemon=True, name="warm-reaper")
            _REAPER.start()


def acquire(backend: Backend, key: tuple[Any, ...], spec: RunSpec, folders: dict[str, Path],
            wall: float) -> Warm | None:
    """A ready warm run for ``key`` (started from ``spec`` if there is none), marked busy; None
    when the one there is busy or none gets ready. ``folders``: host paths of ``spec``'s binds
    and workdir, copied into a folder the warm run owns (the caller's are removed after it)."""
    now = time.monotonic()
    stale: list[Warm] = []
    with _LOCK:
        for other in list(_WARM.values()):
            if other.dead or other.idle(now):
                stale.append(_WARM.pop(other.key))
        warm = _WARM.get(key)
        if warm is not None and warm.busy:
            warm = None
            fresh = False
        elif warm is not None and warm.usable(now, wall):
            _WARM.move_to_end(key)
            warm.busy = True
            fresh = False
        else:
            if warm is not None:
                stale.append(_WARM.pop(key))
            while len(_WARM) >= MAX_WARM:
                idle = next((w for w in _WARM.values() if not w.busy), None)
                if idle is None:
                    break
                stale.append(_WARM.pop(idle.key))
            fresh = len(_WARM) < MAX_WARM
            warm = None
    for old in stale:
        old.close()
    if warm is not None or not fresh:
        return warm
    _start_reaper()
    warm = _start(backend, key, spec, folders)
    if warm is None or not warm.wait_ready():
        return None
    with _LOCK:
        if key in _WARM:  # another thread got there first: use ours once, keep theirs
            warm.busy = True
            return warm
        warm.busy = True
        _WARM[key] = warm
    return warm


def _start(backend: Backend, key: tuple[Any, ...], spec: RunSpec,
           folders: dict[str, Path]) -> Warm | None:
    root = Path(tempfile.mkdtemp(prefix="grader-warm-"))
    moved: dict[str, str] = {}
    try:
        for name, source in folders.items():
            fstree.copy_tree(source, root / name)
            moved[str(source)] = str(root / name)
    except OSError:
        fstree.discard(root)
        return None
    workdir = Path(moved.get(str(spec.workdir), str(spec.workdir)))
    binds = {moved.get(host, host): inside for host, inside in spec.ro_binds.items()}
    limits = spec.limits.with_(wall_seconds=LIFETIME, cpu_seconds=LIFETIME)
    own = RunSpec(argv=list(spec.argv), workdir=workdir, limits=limits, stdin=spec.stdin,
                  env=dict(spec.env), ro_binds=binds, discard_workdir=True)
    return Warm(backend, key, own, root)


def configure(*, enabled: bool) -> None:
    """Whether pytest jobs of this process use warm trusted runs (``SANDBOX_WARM_TRUSTED``)."""
    global ENABLED
    ENABLED = enabled
    if not enabled:
        close_all()


def close_all(*, wait: float = 0.0) -> None:
    """Close every warm run of this process (tests; a worker shutting down); with ``wait``,
    give each up to that many seconds to be gone, its sandbox run and folder with it."""
    with _LOCK:
        warms = list(_WARM.values())
        _WARM.clear()
        live = list(_LIVE)
    for warm in warms:
        warm.close()
    deadline = time.monotonic() + wait
    for warm in live if wait else []:
        if not warm.closed:
            warm.close()
        warm.gone.wait(max(0.0, deadline - time.monotonic()))


__all__ = ["Ctl", "Warm", "WarmRun", "acquire", "close_all", "close_idle", "configure"]
