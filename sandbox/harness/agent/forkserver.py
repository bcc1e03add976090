"""Entry point of the student sandbox: a fork server, one freshly forked process per test.

The runner starts one student sandbox per test file and submission (``sandbox/harness/
students.py``). This process imports the agent (``student.py`` and what it needs) and nothing
else: it never imports, reads or runs the student's code. For each test the runner sends one
request on the ``ctl`` socket (``fd`` in the JSON config on stdin) with the test's end of a
socketpair attached (SCM_RIGHTS); the server then

1. gives the test a pristine world: every process of the previous test is killed
   (``kill(-1)`` from here reaches every process of the sandbox except this one and the
   namespace's pid 1) and reaped (this process is a child subreaper, so orphans come back here),
   ``/work``, ``/tmp`` and ``/dev/shm`` are emptied, and the submission is copied again into
   ``/work`` from its read-only copy at ``PRISTINE``;
2. forks a child, which starts a session of its own, sends stdout and stderr to a memfd, takes
   the test's own rlimits (CPU, address space: soft and hard, so it cannot raise them), installs
   a seccomp filter that keeps it from signalling, renicing or re-limiting this server, and then
   runs ``student.serve`` as a one-test student process always did;
3. enforces the wall clock (a backstop: the trusted side already stops the test at its deadline
   and the runner then says ``end``; the child, which sees EOF on its socket by then, gets
   ``END_GRACE`` to leave on its own, writing its trace), and kills every process of the test;
   it reports how the child ended (``exited``): exit code or
   signal, CPU time and peak RSS (``wait4``), whether it was killed for time, the tail of its
   output, and the evidence file a traced child wrote.

Everything here runs as the student's uid, next to student code: nothing it reports is trusted.
The runner checks every field, never lets a report make a test pass or make the submission
"could not be graded", and starts a new sandbox for the remaining tests when this server dies,
lies about the protocol, or stops answering. The server is made non-dumpable, so student
processes cannot open its ``/proc`` files (memory, fds), and the seccomp filter closes the
system calls that could stop or slow it (``kill``/``tgkill``/... of its pid, -1 or its group,
``pidfd_send_signal``, ``prlimit64``/``sched_set*``/``ioprio_set`` of it, and I/O ownership:
``F_SETOWN``, ``FIOSETOWN``, ``SIOCSPGRP``). ``ptrace`` and ``process_vm_*`` are already denied by
the backend's filter.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import select
import shutil
import signal
import socket
import struct
import sys
import time
import traceback
from typing import Any

from . import student
from .guard import install, seccomp_filter

PRISTINE = "/opt/grader/_submission"  # the submission, read-only, as it was before any test
WORK = "/work"
TESTS = "tests"  # /work/tests is the helpers' read-only mount: kept, never copied over
SCRATCH = ("/tmp", "/dev/shm")  # noqa: S108 - the sandbox's own, emptied between tests
MAX_REQUEST = 1 << 16
MAX_EVIDENCE = 256 * 1024
OUTPUT_TAIL = 4096
# Seconds a test's process gets to leave on its own once the test is over (the trusted side
# closed its socket: the process sees EOF, writes its trace when traced, and exits).
END_GRACE = 1.0
MAX_SCALE = 1000  # tests one test's process may run (itself and those it replays)

_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG, _PR_SET_DUMPABLE = 1, 4
_PR_SET_CHILD_SUBREAPER = 36
class _Sock:
    """The ``ctl`` socket: requests in (raw, each one ``sendmsg`` with its fds), frames out."""

    def __init__(self, fd: int) -> None:
        self.sock = socket.socket(fileno=fd)
        self.sock.setblocking(True)

    def send(self, message: dict[str, Any]) -> None:
        raw = json.dumps(message, ensure_ascii=True, separators=(",", ":")).encode()
        self.sock.sendall(struct.pack(">I", len(raw)) + raw)

    def recv(self) -> tuple[dict[str, Any], list[int]] | None:
        """The next request and its fds (they come with its first bytes); None at EOF."""
        header, fds, _, _ = socket.recv_fds(self.sock, 4, 2)
        while header and len(header) < 4:
            more = self.sock.recv(4 - len(header))
            if not more:
                break
            header += more
        if len(header) < 4:
            for fd in fds:
                os.close(fd)
            return None
        size = min(struct.unpack(">I", header)[0], MAX_REQUEST)
        buf = bytearray()
        while len(buf) < size:
            chunk = self.sock.recv(size - len(buf))
            if not chunk:
                return None
            buf += chunk
        return json.loads(bytes(buf)), fds


_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def _clear(folder: str, keep: str | None = None) -> None:
    """Remove everything inside ``folder`` (not ``keep``), without following links, whatever
    modes the test left (everything here is ours to chmod), at any depth: one open folder at a
    time, walked by name (no path grows with the depth, no recursion). Every process of the
    test is gone, so nothing moves meanwhile."""
    fd = os.open(folder, _DIR)
    names: list[str] = []  # the folders we went down into, from ``folder``
    try:
        while True:
            down = None
            for name in os.listdir(fd):
                if not names and name == keep:
                    continue
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if info.st_mode & 0o170000 != 0o040000:
                    os.unlink(name, dir_fd=fd)
                    continue
                os.chmod(name, 0o700, dir_fd=fd)  # a folder, not a link: nothing to follow
                try:
                    os.rmdir(name, dir_fd=fd)
                except OSError:
                    down = name
                    break
            if down is not None:
                below = os.open(down, _DIR | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = below
                names.append(down)
                continue
            if not names:
                return
            above = os.open("..", _DIR, dir_fd=fd)
            os.close(fd)
            fd = above
            os.rmdir(names.pop(), dir_fd=fd)
    finally:
        os.close(fd)


_MODES: dict[str, int] = {}  # of /work, /tmp and /dev/shm as the sandbox made them


def _fresh_world() -> None:
    if not _MODES:
        _MODES.update({p: os.stat(p).st_mode & 0o7777 for p in (WORK, *SCRATCH)
                       if os.path.isdir(p)})
    for path, mode in _MODES.items():  # a test may have chmod-ed those its uid owns
        with contextlib.suppress(PermissionError):
            os.chmod(path, mode)
    _clear(WORK, keep=TESTS)
    for folder in SCRATCH:
        if os.path.isdir(folder):
            _clear(folder)
    for name in os.listdir(PRISTINE):
        if name == TESTS:
            continue
        source, target = os.path.join(PRISTINE, name), os.path.join(WORK, name)
        if os.path.isdir(source) and not os.path.islink(source):
            shutil.copytree(source, target, symlinks=True)
        else:
            shutil.copy2(source, target, follow_symlinks=False)


def _kill_all() -> None:
    """Every process of the sandbox but us and pid 1 is the test's: kill and reap them all."""
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


# Ignored here so that a student process cannot stop or end the server with them; a test's
# process gets the dispositions a fresh interpreter has.
_IGNORED = (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGHUP, signal.SIGIO,
            signal.SIGURG, signal.SIGXCPU)


def _child(config: dict[str, Any], limits: dict[str, Any], fd: int, out: int, ctl: int,
           program: bytes | None) -> None:
    for sig in _IGNORED:
        signal.signal(sig, signal.SIG_DFL)
    os.setsid()
    os.close(ctl)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _LIBC.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)  # as a process of its own: only the server hides
    cpu = max(1, int(-(-float(limits["cpu_seconds"]) // 1)))
    # A test that replays earlier ones: the hard limit covers them all; the soft one is this
    # test's CPU time, moved on by the trusted side as each replayed test starts ("cpu").
    total = max(cpu, int(-(-float(limits.get("cpu_total", 0)) // 1)))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, total + 1))
    memory = int(limits["memory_mb"]) << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if program is not None:
        install(program)
    student.serve({**config, "fd": fd})


def _run_test(ctl: _Sock, request: dict[str, Any], fds: list[int], base: dict[str, Any],
              limits: dict[str, Any], program: bytes | None) -> bool:
    """One test: fork, wait for the child, the end of the test or the deadline; report.
    False when the runner went away."""
    extra = request.get("config")
    config = {**base, **(extra if isinstance(extra, dict) else {})}
    # A test that first replays the ones before it (the runner's ``replay``): their time too.
    scale = request.get("scale")
    if type(scale) is int and 1 < scale <= MAX_SCALE:
        limits = {**limits, "cpu_total": float(limits["cpu_seconds"]) * scale,
                  "wall_seconds": float(limits["wall_seconds"]) * scale}
    out = os.memfd_create("test-output", 0)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            _child(config, limits, fds[0], out, ctl.sock.fileno(), program)
        except BaseException:
            traceback.print_exc()  # into the test's output (its tail is reported)
            sys.stderr.flush()
        finally:
            os._exit(70)
    os.close(fds[0])
    for extra in fds[1:]:
        os.close(extra)
    pidfd = os.pidfd_open(pid)
    deadline = started + float(limits["wall_seconds"]) + float(limits["slack_seconds"])
    ended = killed = False
    runner_alive = True
    status: tuple[int, int, Any] | None = None
    while status is None:
        left = deadline - time.monotonic()
        if left <= 0:
            killed = True
            break
        ready = select.select([pidfd, ctl.sock.fileno()], [], [], left)[0]
        if pidfd in ready:
            status = os.wait4(pid, 0)
        elif ready:
            got = ctl.recv()
            runner_alive = got is not None
            ended = True
            break
    if status is None and ended and select.select([pidfd], [], [], END_GRACE)[0]:
        status = os.wait4(pid, 0)  # it saw the test's end (EOF) and left: a trace is written
    os.close(pidfd)
    wall = time.monotonic() - started
    if status is None:
        os.kill(pid, signal.SIGKILL)
        status = os.wait4(pid, 0)
    _kill_all()
    _, code, usage = status
    evidence = None
    path = config.get("coverage")
    if isinstance(path, str):
        try:
            with open(path, "rb") as fh:  # noqa: PTH123 - a plain read, no pathlib in the agent
                evidence = fh.read(MAX_EVIDENCE + 1).decode(errors="replace")
        except OSError:
            evidence = None
    size = os.lseek(out, 0, os.SEEK_END)
    os.lseek(out, max(0, size - OUTPUT_TAIL), os.SEEK_SET)
    tail = os.read(out, OUTPUT_TAIL).decode(errors="replace")
    os.close(out)
    report = {
        "op": "exited",
        "code": os.WEXITSTATUS(code) if os.WIFEXITED(code) else None,
        "signal": os.WTERMSIG(code) if os.WIFSIGNALED(code) else None,
        "cpu": round(usage.ru_utime + usage.ru_stime, 4),
        "rss": usage.ru_maxrss,
        "wall": round(wall, 4),
        "killed": "wall" if killed else "",
        "output_bytes": size,
        "tail": tail,
        "evidence": evidence,
    }
    if not runner_alive:
        return False
    ctl.send(report)
    if not ended:  # the runner says "end" once the trusted side reported the test
        runner_alive = ctl.recv() is not None
    return runner_alive


def main() -> None:
    config: dict[str, Any] = json.loads(sys.stdin.buffer.read())
    student.prepare_interpreter()
    # Student processes run as our uid: they must not open our /proc files (mem, fd).
    _LIBC.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    _LIBC.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    for sig in _IGNORED:
        signal.signal(sig, signal.SIG_IGN)
    ctl = _Sock(config["fd"])
    limits = config["limits"]
    base = {key: config[key] for key in ("module", "helpers", "path")}
    program = seccomp_filter(os.getpid())
    os.chdir(WORK)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing of ours, nor of a child's before its own dup2, goes anywhere
    try:
        _fresh_world()
        ctl.send({"op": "ready"})
        while (got := ctl.recv()) is not None:
            request, fds = got
            if request.get("op") != "test" or not fds:
                for fd in fds:
                    os.close(fd)
                continue
            if not _run_test(ctl, request, fds, base, limits, program):
                break
            _fresh_world()
            ctl.send({"op": "ready"})  # the runner hands over the next test only now
    finally:
        _kill_all()
    os._exit(0)


__all__ = ["PRISTINE", "main"]
