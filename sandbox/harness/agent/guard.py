"""A seccomp filter that keeps a process (and everything it starts) from stopping, slowing or
re-limiting one other process of the same uid: the fork servers' guard.

Both fork servers run next to student code as the student's uid: the harness's student sandbox
(``forkserver.py``) and the Docker backend's in-container runner (``sandbox/backends/
docker_runner_agent.py``, which gets this file's text along with its own). Each installs
:func:`seccomp_filter` of its own pid in every child before the child runs anything of the
student's: EPERM for ``kill``/``tkill``/``tgkill``/``rt_*sigqueueinfo``/``pidfd_open`` aimed at
the server, -1 or its group, ``pidfd_send_signal`` (any), ``prlimit64``/``sched_set*``/
``ioprio_set`` of it, and I/O ownership (``F_SETOWN``, ``FIOSETOWN``, ``SIOCSPGRP``). ``ptrace``
and ``process_vm_*`` are the backend's own filter's (bubblewrap) or Docker's default profile's.
The filter is inherited across fork and exec and cannot be removed. Standard library only.
"""

from __future__ import annotations

import ctypes
import os
import struct

_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
# x86-64 system calls whose first argument is a pid (or pid group) the child must not aim at us.
_AIMED = {"kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129,
          "rt_tgsigqueueinfo": 297, "pidfd_open": 434, "prlimit64": 302,
          "sched_setparam": 142, "sched_setscheduler": 144, "sched_setaffinity": 203,
          "sched_setattr": 314}
_FCNTL, _IOCTL, _IOPRIO_SET, _PIDFD_SEND_SIGNAL = 72, 16, 251, 424
_F_SETOWN, _F_SETOWN_EX = 8, 15
_FIOSETOWN, _SIOCSPGRP = 0x8901, 0x8902


def seccomp_filter(server: int) -> bytes | None:
    """Classic BPF: EPERM for the calls that could reach process ``server`` (see the module
    docstring); everything else is left to the backend's own filter. x86-64 only."""
    if os.uname().machine != "x86_64":  # not platform: it costs every sandbox ~2 ms
        return None
    ld, jeq, ret, allow, deny = 0x20, 0x15, 0x06, 0x7FFF0000, 0x00050000 | 1  # EPERM
    body: list[tuple[int, int, int, int]] = []

    def case(nr: int, offset: int, values: list[int]) -> None:
        # if nr matches: load the argument, deny on any of the values, else allow
        block = [(ld, 0, 0, offset)]
        block += [(jeq, len(values) - i, 0, v & 0xFFFFFFFF) for i, v in enumerate(values)]
        block += [(ret, 0, 0, allow), (ret, 0, 0, deny)]
        body.append((jeq, 0, len(block), nr))
        body.extend(block)
        body.append((ld, 0, 0, 0))  # the next test compares the number again

    for nr in _AIMED.values():
        case(nr, 16, [server, -1, -server, 1])
    case(_IOPRIO_SET, 24, [server])
    case(_FCNTL, 24, [_F_SETOWN, _F_SETOWN_EX])
    case(_IOCTL, 24, [_FIOSETOWN, _SIOCSPGRP])
    code = [(ld, 0, 0, 0), (jeq, 0, 1, _PIDFD_SEND_SIGNAL), (ret, 0, 0, deny), *body,
            (ret, 0, 0, allow)]
    return b"".join(struct.pack("=HBBI", *op) for op in code)


def install(program: bytes) -> None:
    buf = ctypes.create_string_buffer(program)

    class _Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = _Prog(len(program) // 8, ctypes.addressof(buf))
    if _LIBC.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or _LIBC.prctl(
        _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0
    ) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter not installed")


__all__ = ["install", "seccomp_filter"]
