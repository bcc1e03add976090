"""The bubblewrap backend's seccomp filter: a small deny list, as classic BPF for ``--seccomp``.

It only shrinks the kernel surface a program can reach (see the threat model in
``sandbox.backends.bwrap``); the namespaces, cgroups and rlimits are the boundary.
"""

from __future__ import annotations

import errno
import platform
import struct

# x86-64 system calls no graded program needs: they inspect or stall other processes (ptrace
# of the sandbox's own pid 1 would stall the run), or only widen the kernel's attack surface.
# fmt: off
_DENIED_SYSCALLS = {
    "ptrace": 101, "syslog": 103, "pivot_root": 155, "chroot": 161, "acct": 163, "mount": 165,
    "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169, "sethostname": 170,
    "setdomainname": 171, "iopl": 172, "ioperm": 173, "init_module": 175, "delete_module": 176,
    "quotactl": 179, "lookup_dcookie": 212, "kexec_load": 246, "add_key": 248, "request_key": 249,
    "keyctl": 250, "unshare": 272, "perf_event_open": 298, "name_to_handle_at": 303,
    "open_by_handle_at": 304, "setns": 308, "process_vm_readv": 310, "process_vm_writev": 311,
    "kcmp": 312, "finit_module": 313, "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442,
}
# fmt: on


def seccomp_filter() -> bytes | None:
    """A classic-BPF seccomp program: EPERM for ``_DENIED_SYSCALLS`` and the x32 ABI, death for
    any other architecture (32-bit ``int 0x80`` calls), everything else allowed. x86-64 only."""
    if platform.machine() != "x86_64":
        return None
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    denied = sorted(_DENIED_SYSCALLS.values())
    allow = 4 + len(denied)
    refuse, kill = allow + 1, allow + 2
    code = [(ld, 0, 0, 4), (jeq, 0, kill - 2, 0xC000003E), (ld, 0, 0, 0)]  # arch, then nr
    code.append((jge, refuse - 4, 0, 0x40000000))  # x32 system calls
    code += [(jeq, refuse - (4 + i) - 1, 0, nr) for i, nr in enumerate(denied)]
    code += [
        (ret, 0, 0, 0x7FFF0000),
        (ret, 0, 0, 0x00050000 | errno.EPERM),
        (ret, 0, 0, 0x80000000),
    ]
    return b"".join(struct.pack("=HBBI", *op) for op in code)


__all__ = ["seccomp_filter"]
