"""The in-container runner of a submission's Docker container: one exec for all its runs.

``docker_runner.py`` (the host side) starts this once per session container, as the sandbox uid,
with ``python3 -I -S`` and the text of ``sandbox/harness/agent/guard.py`` and of this file on
its command line (``BOOT``), and talks to it over that exec's stdin and stdout. Each message is
a 4-byte big-endian length, a JSON header, then the raw payloads whose sizes the header lists.
Requests, one at a time:

- ``reset``: every other process of this uid killed until none is left, and reaped (this
  process is a child subreaper); ``/work``, ``/tmp``, ``/dev/shm`` and the POSIX message queues
  emptied (whatever modes a run left), the uid's SysV IPC removed (``ipcrm``). Replies ``ok``.
  This is what ``docker_transfer.RESET_SCRIPT`` does in the exec path.
- ``run`` (payloads: the workdir as a tar, the program's stdin, both read as they are used:
  neither is ever held whole here): the tar unpacked into ``/work``, then the program forked
  with a session of its own, the run's rlimits (CPU soft and hard+1, file size, no core, 256
  files: what ``prlimit`` gets in the exec path), the guard's seccomp filter (it cannot
  signal, re-limit or renice this process), and exec'd in ``cwd`` with ``env``. Its stdout and
  stderr are read with the cap (each, as ``pump`` caps them) and the wall clock; when the
  program exits, or is killed for time or output, every process of the run is killed. Replies
  the exit status (128+n for signal n, as Docker reports one), ``killed`` ("", "wall",
  "output"), the seconds, and stdout and stderr as payloads.
- ``measure``: the three scratch mounts' free blocks and inodes. (Copying ``/work`` back
  stays the exec path's ``tar -c``, which streams it: the runner would have to hold it.)

Nothing this process says is trusted more than the program's own output would be: it runs as
the student's uid next to student code. The host keeps its own deadline over every request,
reads the container's cgroup counters itself for CPU, memory and OOM kills, treats a tar from
here as hostile (``docker_transfer.untar_into``) and throws the container away at the first
sign of trouble. This process is non-dumpable (a run cannot open its /proc files) and ignores
the job-control and hang-up signals; the guard keeps runs from signalling it. Standard library
only, Python 3.8+ (the image's python3).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import select
import signal
import struct
import subprocess
import tarfile
import time
from typing import Any

try:  # on the host (its tests); in the container guard.py's text ran first, in this namespace
    from sandbox.harness.agent.guard import install, seccomp_filter
except ImportError:
    pass

WORK = "/work"
SCRATCH = ("/work", "/tmp", "/dev/shm")  # noqa: S108 - the container's own tmpfs
MAX_HEADER = 1 << 20
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 4, 36
_IGNORED = (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU, signal.SIGHUP, signal.SIGPIPE)


class Channel:
    """Messages in on fd 0, out on a private copy of fd 1 (fd 1 itself goes to /dev/null, so
    nothing but a message ever reaches the host on stdout). A request's payloads are read by
    its handler, as it uses them (``Payload``): a large workdir or stdin is never held whole."""

    def __init__(self) -> None:
        self.out = os.dup(1)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 1)
        os.close(devnull)

    def read_exact(self, size: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < size:
            chunk = os.read(0, min(size - len(buf), 1 << 20))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def recv(self) -> dict[str, Any] | None:
        """The next request's header (its ``payload`` sizes checked), or None at the end."""
        head = self.read_exact(4)
        if head is None:
            return None
        size = struct.unpack(">I", head)[0]
        if size > MAX_HEADER:
            return None
        raw = self.read_exact(size)
        if raw is None:
            return None
        header = json.loads(raw)
        sizes = header.get("payload") if isinstance(header, dict) else None
        if not isinstance(sizes, list) or not all(isinstance(n, int) and n >= 0 for n in sizes):
            return None
        return header

    def send(self, header: dict[str, Any], *payloads: bytes) -> None:
        header = {**header, "payload": [len(p) for p in payloads]}
        raw = json.dumps(header, separators=(",", ":")).encode()
        data = b"".join([struct.pack(">I", len(raw)), raw, *payloads])
        view = memoryview(data)
        while view:
            view = view[os.write(self.out, view):]


class Payload:
    """One payload of the request being handled, read from fd 0 as a file (at most ``size``
    bytes); ``drain`` skips what its reader left, so the next request starts in step."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, size: int = -1) -> bytes:
        want = self.left if size is None or size < 0 else min(size, self.left)
        if want <= 0:
            return b""
        chunk = os.read(0, min(want, 1 << 20))
        if not chunk:
            raise EOFError("the host went away")
        self.left -= len(chunk)
        return chunk

    def drain(self) -> None:
        while self.left:
            self.read(1 << 20)


def _kill_all() -> bool:
    """Every process of this uid but this one killed and reaped; False when some remain."""
    me = os.getpid()
    for _ in range(400):
        try:
            os.kill(-1, signal.SIGKILL)  # never this process itself
        except ProcessLookupError:
            pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG) == (0, 0):
                    break
            except ChildProcessError:
                break
        if not any(_ours(pid) for pid in os.listdir("/proc") if pid.isdigit() and
                   int(pid) != me):
            return True
        time.sleep(0.002)
    return False


def _ours(pid: str) -> bool:
    """Whether this process may signal ``pid`` (one of this uid: root's init and sleep refuse),
    as ``kill -0`` tells (a non-dumpable process's /proc files are root's whatever its uid)."""
    try:
        os.kill(int(pid), 0)
    except OSError:
        return False
    return True


def _clear(folder: str) -> None:
    """Everything inside ``folder`` removed, not following links, whatever modes were left."""
    for root, dirs, _ in os.walk(folder):
        for name in dirs:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, 0o700)
    for root, dirs, files in os.walk(folder, topdown=False):
        for name in files:
            os.unlink(os.path.join(root, name))
        for name in dirs:
            path = os.path.join(root, name)
            if os.path.islink(path):
                os.unlink(path)
            else:
                os.rmdir(path)


def reset() -> bool:
    if not _kill_all():
        return False
    try:
        for folder in SCRATCH:  # root's mount points: only what is inside is ours
            _clear(folder)
        if os.path.isdir("/dev/mqueue"):
            _clear("/dev/mqueue")
    except OSError:
        return False
    subprocess.run(["ipcrm", "--all"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return True


def _child(request: dict[str, Any], stdin: int, out: int, err: int, report: int,
           program: bytes | None) -> None:
    for sig in _IGNORED:
        signal.signal(sig, signal.SIG_DFL)
    os.setsid()
    os.dup2(stdin, 0)
    os.dup2(out, 1)
    os.dup2(err, 2)
    os.closerange(3, report)
    os.closerange(report + 1, 1 << 16)
    cpu, fsize = int(request["cpu"]), int(request["fsize"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    if program is not None:
        install(program)
    os.chdir(str(request["cwd"]))
    argv = [str(a) for a in request["argv"]]
    env = {str(k): str(v) for k, v in request["env"].items()}
    try:
        os.execvpe(argv[0], argv, env)  # noqa: S606 - argv as given, never shell text
    except OSError as exc:
        os.write(report, f"{argv[0]}: {exc.strerror}".encode())
    os._exit(127)


def run(request: dict[str, Any], program: bytes | None) -> tuple[dict[str, Any], bytes, bytes]:
    """The ``run`` request: its payloads (the workdir's tar, then stdin) are read from fd 0
    while they are used, stdin as fast as the program reads it."""
    tar_size, stdin_size = request["payload"]
    work = Payload(tar_size)
    with tarfile.open(fileobj=work, mode="r|") as tar:  # type: ignore[call-overload]
        tar.extractall(WORK)  # noqa: S202 - the host's own tar of the workdir (tar_of)
    work.drain()
    stdin = Payload(stdin_size)
    cap, wall = int(request["cap"]), float(request["wall"])
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    report_r, report_w = os.pipe2(os.O_CLOEXEC)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            _child(request, in_r, out_w, err_w, report_w, program)
        finally:
            os._exit(127)
    for fd in (in_r, out_w, err_w, report_w):
        os.close(fd)
    failed = b""
    while True:  # the exec closes the report pipe; a failure writes why first
        chunk = os.read(report_r, 4096)
        if not chunk:
            break
        failed += chunk
    os.close(report_r)
    got = {out_r: bytearray(), err_r: bytearray()}
    streams = dict(got)  # those still open
    pending = b""  # stdin read from the host, not yet taken by the program
    feeding = stdin.left > 0  # the program's stdin is open and more is to come
    if feeding:
        os.set_blocking(in_w, False)
    else:
        os.close(in_w)
    killed = ""
    deadline = started + wall
    pidfd = os.pidfd_open(pid)
    status: int | None = None
    while streams or status is None:
        left = deadline - time.monotonic()
        if left <= 0:
            killed = "wall"
            break
        readers = list(streams) + ([pidfd] if status is None else [])
        if feeding and not pending:
            readers.append(0)
        writers = [in_w] if feeding and pending else []
        ready_r, ready_w, _ = select.select(readers, writers, [], left)
        if pidfd in ready_r:
            status = os.waitpid(pid, 0)[1]
            _kill_all()  # what the program left running dies with it (as under bubblewrap)
        if 0 in ready_r:
            pending = stdin.read(65536)
        if ready_w:
            try:
                pending = pending[os.write(in_w, pending):]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:  # the program closed its stdin: the rest is skipped below
                pending, feeding = b"", False
                os.close(in_w)
            if feeding and not pending and not stdin.left:
                feeding = False
                os.close(in_w)
        for fd in [fd for fd in ready_r if fd in streams]:
            chunk = os.read(fd, 65536)
            if not chunk:
                os.close(fd)
                del streams[fd]
                continue
            streams[fd] += chunk
            if len(streams[fd]) > cap:
                killed = "output"
        if killed:
            break
    if feeding:
        os.close(in_w)
    seconds = time.monotonic() - started
    if status is None:
        os.kill(pid, signal.SIGKILL)
        status = os.waitpid(pid, 0)[1]
        _kill_all()
    os.close(pidfd)
    stdin.drain()  # what the program never read
    out, err = bytes(got[out_r]), bytes(got[err_r])
    for fd in list(streams):
        os.close(fd)
    code = (128 + os.WTERMSIG(status)) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    header = {"op": "done", "code": code, "killed": killed, "seconds": round(seconds, 4),
              "exec_failed": failed.decode(errors="replace")[:500]}
    return header, out, err


def measure() -> dict[str, Any]:
    """Free blocks and inodes of the three scratch mounts (a run that filled one is caught
    even if it ignored ENOSPC and exited 0)."""
    figures = []
    for mount in SCRATCH:
        found = os.statvfs(mount)
        figures.append([found.f_bfree, found.f_ffree])
    return {"op": "measured", "space": figures}


def main() -> None:
    _LIBC.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    _LIBC.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    for sig in _IGNORED:
        signal.signal(sig, signal.SIG_IGN)
    channel = Channel()
    program = seccomp_filter(os.getpid())
    channel.send({"op": "hello"})
    while (request := channel.recv()) is not None:
        op, sizes = request.get("op"), request["payload"]
        if op == "reset" and not sizes:
            channel.send({"op": "reset", "ok": reset()})
        elif op == "run" and len(sizes) == 2:
            try:
                header, out, err = run(request, program)
            except EOFError:
                break
            channel.send(header, out, err)
        elif op == "measure" and not sizes:
            channel.send(measure())
        else:
            break
    _kill_all()


if __name__ == "__main__":
    main()
