"""Handing a run's ``pass_fds`` to a program inside a container: SCM_RIGHTS over a unix socket
bound into it, and a small shim there that puts them at their numbers and execs the program.
"""

from __future__ import annotations

import array
import os
import shutil
import socket
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

from sandbox.types import RunSpec

# Runs inside the container as the sandbox uid, before the program: receive the fds the host
# hands over, move them to the numbers the spec asked for, exec the program.
_FD_SHIM = """
import array, fcntl, os, socket, sys
path, targets, argv = sys.argv[1], [int(n) for n in sys.argv[2].split(",")], sys.argv[3:]
sock = socket.socket(socket.AF_UNIX)
sock.connect(path)
fds = array.array("i")
_, ancillary, _, _ = sock.recvmsg(1, socket.CMSG_SPACE(len(targets) * fds.itemsize))
for level, kind, data in ancillary:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
sock.close()
if len(fds) != len(targets):
    sys.exit("grader fd handoff: expected %d fds, got %d" % (len(targets), len(fds)))
high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 128) for fd in fds]  # below --nofile=256
for fd in fds:
    os.close(fd)
for fd, target in zip(high, targets):
    os.dup2(fd, target)
    os.close(fd)
os.execvp(argv[0], argv)
"""
_FD_MOUNT = "/run/grader-fds"


class FdHandoff:
    """Hand ``fds`` to the program in a container: a listening unix socket in a fresh host
    folder bound into the container, a thread that sends the fds to the first (only) peer."""

    def __init__(self, fds: tuple[int, ...]) -> None:
        self._fds = fds
        self._dir = Path(tempfile.mkdtemp(prefix="grader-fds-"))
        os.chmod(self._dir, 0o711)  # noqa: S103 - traversable, not listable
        self._listener = socket.socket(socket.AF_UNIX)
        self._listener.bind(str(self._dir / "fds.sock"))
        os.chmod(self._dir / "fds.sock", 0o777)  # noqa: S103 - the sandbox uid connects
        self._listener.listen(1)
        self._thread = threading.Thread(target=self._serve, daemon=True, name="docker-fds")

    def __enter__(self) -> FdHandoff:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()  # wakes the thread if nobody connected
        self._thread.join(timeout=5)
        shutil.rmtree(self._dir, ignore_errors=True)

    def wrap(self, spec: RunSpec) -> RunSpec:
        argv = [
            "/usr/bin/python3", "-I", "-S", "-c", _FD_SHIM, f"{_FD_MOUNT}/fds.sock",
            ",".join(map(str, self._fds)), *[translate_arg0(spec.argv[0]), *spec.argv[1:]],
        ]
        binds = {**spec.rw_binds, str(self._dir): _FD_MOUNT}
        return replace(spec, argv=argv, rw_binds=binds, pass_fds=())

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        with conn:
            conn.sendmsg([b"F"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                   array.array("i", self._fds).tobytes())])


def translate_arg0(arg0: str) -> str:
    """The grader's own interpreter path means 'python' inside the image."""
    if arg0 == sys.executable or os.path.basename(arg0).startswith("python"):
        return "/usr/bin/python3"
    return arg0


__all__ = ["FdHandoff", "translate_arg0"]
