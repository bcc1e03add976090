"""Watching one bubblewrap run and ending it: the pipes and their caps, the wall clock, /work's
growth without a scratch tmpfs, the teardown that leaves nothing of the run alive, and the
verdict from what was seen (see "Theory of operation" in ``sandbox.backends.bwrap``).
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sandbox import fstree
from sandbox.backends.cgroups import Usage
from sandbox.backends.common import rss_for_verdict, split_exit_status
from sandbox.types import Limits, RunResult, RunSpec, SandboxError
from sandbox.verdicts import classify

WORK_MAX_FILES = 20_000  # files /work may gain during one run
POLL_S = 0.1  # how often the /work watchdog looks


@dataclass
class Outcome:
    """Raw facts about one run, before classification."""

    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    status: bytearray = field(default_factory=bytearray)
    killed_for: str = ""  # "", "wall", "output", "disk": we killed the run for this reason
    output_exceeded: bool = False
    # rusage of the namespace's pid 1 (the program and everything it started, all reaped
    # by it); the bwrap monitor's own figures would carry our forked parent's RSS.
    rusage: resource.struct_rusage | None = None
    wall: float = 0.0
    memory: Usage | None = None  # the run's memory cgroup counters, when it had one
    disk_exceeded: bool = False  # found at exit: the run wrote more than tmp_size_mb

    def take(self, stream: str, data: bytes, cap: int) -> bool:
        """Keep at most ``cap`` bytes of a stream; False once the program printed more."""
        buf: bytearray = getattr(self, stream)
        room = cap - len(buf)
        buf += data[: max(room, 0)]
        if len(data) > room:
            setattr(self, f"{stream}_truncated", True)
            self.output_exceeded = True
            return False
        return True

    def take_status(self, data: bytes) -> bool:
        self.status += data[: max(0, (1 << 16) - len(self.status))]
        return True

    def status_docs(self) -> list[dict[str, object]]:
        docs = []
        for line in bytes(self.status).decode(errors="replace").splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if isinstance(doc, dict):
                docs.append(doc)
        return docs


def supervise(
    proc: subprocess.Popen[bytes],
    status_r: int,
    spec: RunSpec,
    started: float,
    out: Outcome,
    watch: DiskWatch | None,
) -> None:
    """Pump the pipes until bwrap exits or a limit trips (then ``out.killed_for`` says which)."""
    limits = spec.limits
    deadline = started + limits.wall_seconds
    assert proc.stdout is not None and proc.stderr is not None
    sinks = _sinks(proc, status_r, out, limits.output_bytes)
    pidfd = os.pidfd_open(proc.pid)
    pending = memoryview(spec.stdin)
    stdin_fd = proc.stdin.fileno() if proc.stdin is not None else -1
    with selectors.DefaultSelector() as sel:
        for fd in sinks:
            sel.register(fd, selectors.EVENT_READ)
        sel.register(pidfd, selectors.EVENT_READ)
        if stdin_fd >= 0:
            os.set_blocking(stdin_fd, False)
            sel.register(stdin_fd, selectors.EVENT_WRITE)
        try:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    out.killed_for = "wall"
                    return
                for key, _ in sel.select(min(deadline - now, POLL_S)):
                    fd = key.fd
                    if fd == pidfd:
                        return
                    if fd == stdin_fd:
                        pending = _feed(proc, sel, pending)
                        continue
                    data = os.read(fd, 1 << 16)
                    if not data:
                        sel.unregister(fd)
                    elif not sinks[fd](data):
                        out.killed_for = "output"
                        return
                if watch is not None and watch.exceeded():
                    out.killed_for = "disk"
                    return
        finally:
            os.close(pidfd)
            if proc.stdin is not None and not proc.stdin.closed:
                proc.stdin.close()


def _feed(
    proc: subprocess.Popen[bytes], sel: selectors.BaseSelector, pending: memoryview
) -> memoryview:
    assert proc.stdin is not None
    fd = proc.stdin.fileno()
    try:
        written = os.write(fd, pending[: 1 << 16])
    except BlockingIOError:
        return pending
    except (BrokenPipeError, OSError):
        written = len(pending)  # the program closed stdin: drop the rest, like a shell pipe
    pending = pending[written:]
    if not pending:
        sel.unregister(fd)
        proc.stdin.close()
    return pending


def _sinks(
    proc: subprocess.Popen[bytes], status_r: int, out: Outcome, cap: int
) -> dict[int, Callable[[bytes], bool]]:
    """Where the bytes read from each pipe go; a sink returns False when its cap is exceeded."""
    assert proc.stdout is not None and proc.stderr is not None
    return {
        proc.stdout.fileno(): lambda b: out.take("stdout", b, cap),
        proc.stderr.fileno(): lambda b: out.take("stderr", b, cap),
        status_r: out.take_status,
    }


class DiskWatch:
    """Cheap check (statvfs) that /work did not grow by more than ``tmp_size_mb`` or too many files.

    Only when the whole file system grew that much is the workdir itself measured, so concurrent
    runs on the same disk cannot get each other killed. Used only without the scratch tmpfs
    (not root): a poll, so a fast burst lands before it is seen; ``final`` measures at exit.
    """

    def __init__(self, workdir: Path, limits: Limits) -> None:
        self._workdir = workdir
        self._cap = limits.tmp_size_mb << 20
        self._next = time.monotonic() + POLL_S
        self._base = self._usage()
        self._dir_base = fstree.tree_usage(workdir)

    def _usage(self) -> tuple[int, int]:
        st = os.statvfs(self._workdir)
        return (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_files - st.f_ffree

    def exceeded(self, *, final: bool = False) -> bool:
        now = time.monotonic()
        if now < self._next and not final:
            return False
        self._next = now + POLL_S
        used, files = self._usage()
        if used - self._base[0] <= self._cap and files - self._base[1] <= WORK_MAX_FILES:
            return False
        size, count = fstree.tree_usage(self._workdir)
        grown, added = size - self._dir_base[0], count - self._dir_base[1]
        if grown > self._cap or added > WORK_MAX_FILES:
            return True
        self._base = (used - grown, files - added)  # the rest is other runs': look again later
        return False


def teardown(
    proc: subprocess.Popen[bytes],
    status_r: int,
    out: Outcome,
    started: float,
    cap: int,
    uid: int | None,
) -> None:
    """Kill and reap bwrap and the namespace's pid 1, then drain what the pipes still hold."""
    if proc.returncode is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.wait4(proc.pid, 0)
        proc.returncode = -1  # reaped here; keep Popen from waiting on a recycled pid
    out.wall = time.monotonic() - started
    _drain(status_r, out.take_status)  # the child-pid line, had the loop stopped before it
    # bwrap's monitor exits as soon as the program does; pid 1 may still be reaping daemons.
    # We are a subreaper, so pid 1 is our child now and its pid cannot be recycled before we
    # reap it: kill it, and its exit waits for the kernel to kill the whole namespace.
    # Killed in the microseconds between clone and the child-pid line, pid 1 is still ours to
    # reap: with a uid of its own it is found by that uid.
    for pid in _status_pids(out) or _children_with_uid(uid):
        try:
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            continue  # bwrap reaped it already: the namespace is gone with it
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out.rusage = os.wait4(pid, 0)[2]
    # Every writer is dead now, so each pipe holds a bounded remainder and then reports EOF.
    for fd, sink in _sinks(proc, status_r, out, cap).items():
        _drain(fd, sink)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    os.close(status_r)


def proc_status(pid: int | str) -> dict[str, str]:
    """The fields of ``/proc/<pid>/status`` ({} once the process is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)


def real_uid(fields: dict[str, str]) -> int | None:
    first = fields.get("Uid", "").split()[:1]
    return int(first[0]) if first and first[0].isdigit() else None


def processes_of(uid: int) -> dict[int, dict[str, str]]:
    """pid -> the ``/proc/<pid>/status`` fields of every process (zombies included) whose real
    uid is ``uid``."""
    found = {}
    for entry in os.listdir("/proc"):
        fields = proc_status(entry) if entry.isdigit() else {}
        if real_uid(fields) == uid:
            found[int(entry)] = fields
    return found


def _children_with_uid(uid: int | None) -> list[int]:
    if uid is None:
        return []
    me = str(os.getpid())
    return [pid for pid, fields in processes_of(uid).items() if fields.get("PPid") == me]


def _status_pids(out: Outcome) -> list[int]:
    pids = []
    for doc in out.status_docs():
        pid = doc.get("child-pid")
        if isinstance(pid, int) and pid > 1:
            pids.append(pid)
    return pids[:1]


def _drain(fd: int, sink: Callable[[bytes], bool]) -> None:
    """Read a pipe to EOF without blocking (a live writer would only get us EAGAIN)."""
    os.set_blocking(fd, False)
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            return
        if not data:
            return
        sink(data)


# -- verdicts ----------------------------------------------------------------------------------

def classify_outcome(spec: RunSpec, out: Outcome) -> RunResult:
    limits = spec.limits
    docs = out.status_docs()
    started = any("exit-code" in d for d in docs)
    if not started and not out.killed_for:
        detail = bytes(out.stderr).decode(errors="replace").strip().splitlines()
        bwrap_lines = [line for line in detail if line.startswith("bwrap:")]
        raise SandboxError("sandbox setup failed: " + ("; ".join(bwrap_lines) or "no detail"))
    code: int | None = None
    sig: int | None = None
    if out.killed_for:
        sig = signal.SIGKILL
    else:  # bwrap reports death by signal n as 128+n
        raw = next(int(str(d["exit-code"])) for d in docs if "exit-code" in d)
        code, sig = split_exit_status(raw)
    usage = out.rusage
    cpu = usage.ru_utime + usage.ru_stime if usage else 0.0
    rss = usage.ru_maxrss if usage else 0
    stderr = bytes(out.stderr)
    killed_for = out.killed_for or ("disk" if out.disk_exceeded else "")
    oom = out.memory is not None and out.memory.oom_kills > 0
    verdict, message = classify(
        limits, killed_for, out.output_exceeded, code, sig, cpu, rss_for_verdict(spec, rss),
        stderr, memory_exceeded=oom,
    )
    return RunResult(
        verdict=verdict,
        exit_code=code,
        signal=sig,
        stdout=bytes(out.stdout),
        stderr=stderr,
        wall_seconds=round(out.wall, 4),
        cpu_seconds=round(cpu, 4),
        max_rss_kb=rss,
        stdout_truncated=out.stdout_truncated,
        stderr_truncated=out.stderr_truncated,
        message=message,
    )


__all__ = ["POLL_S", "WORK_MAX_FILES", "DiskWatch", "Outcome", "classify_outcome", "supervise",
           "teardown"]
