"""How bubblewrap is started for one run: its argv (namespaces, the read-only system view, the
run's binds and environment), its rlimits, and the ``preexec_fn`` (``Child``) that joins the
run's cgroups, stages the bind sources and drops to the slot uid before bwrap execs (see
"Theory of operation" in ``sandbox.backends.bwrap``).
"""

from __future__ import annotations

import ctypes
import math
import os
import resource
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.backends import scratch
from sandbox.backends.common import child_environment
from sandbox.types import Limits, RunSpec, RuntimeNeeds, SandboxError

STATE_DIR = Path("/run/grader-sandbox")  # slot lock files and the staging mount point (root only)
VENV_MOUNT = "/opt/venv"  # where sys.prefix of a venv appears: its host path may lie under /work

_ETC_FILES = ("/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime")
_ETC_NETWORK = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl", "/etc/services")
# .pth files of the grader's own install: its editable-install hook (an import finder mapping
# ``grader``/``sandbox``/``feedback`` to the source folder, or that folder as a path) and
# setuptools' distutils shim. Sandboxed interpreters never import the grader.
GRADER_PTH = ("__editable__.grader-*.pth", "distutils-precedence.pth")
_RESERVED = ("/work", "/tmp", "/proc", "/dev", "/etc", "/opt")  # noqa: S108 - sandbox paths

LIBC = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
PR_SET_CHILD_SUBREAPER = 36


@dataclass
class Child:
    """What the forked child does before exec, all prepared in the parent (no work in the fork)."""

    stage: bytes | None  # staging mount point, None when not root
    mounts: list[tuple[bytes, bytes, bool]] = field(default_factory=list)  # src, dst, is_dir
    rlimits: list[tuple[int, tuple[int, int]]] = field(default_factory=list)
    uid: int | None = None
    cgroups: list[bytes] = field(default_factory=list)  # cgroup.procs files to join

    def __call__(self) -> None:
        for procs in self.cgroups:  # first: everything from here on is counted in the groups
            fd = os.open(procs, os.O_WRONLY)
            try:
                os.write(fd, str(os.getpid()).encode())
            finally:
                os.close(fd)
        if self.stage is not None:
            check(LIBC.unshare(_CLONE_NEWNS))
            check(LIBC.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None))
            check(
                LIBC.mount(
                    b"tmpfs", self.stage, b"tmpfs", _MS_NOSUID | _MS_NODEV, b"mode=755,size=64k"
                )
            )
            for src, dst, is_dir in self.mounts:
                if is_dir:
                    os.mkdir(dst, 0o755)
                else:
                    os.close(os.open(dst, os.O_WRONLY | os.O_CREAT, 0o644))
                check(LIBC.mount(src, dst, None, _MS_BIND | _MS_REC, None))
        for which, value in self.rlimits:
            resource.setrlimit(which, value)
        if self.uid is not None:
            os.setgroups([])
            os.setresgid(self.uid, self.uid, self.uid)
            os.setresuid(self.uid, self.uid, self.uid)
            try:
                os.kill(-1, signal.SIGKILL)  # leftovers of this slot; never ourselves
            except ProcessLookupError:
                pass


def check(rc: int) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def base_args() -> list[str]:
    """The namespace flags and the read-only system view, the same for every run."""
    args = ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent"]
    args += ["--new-session", "--cap-drop", "ALL", "--hostname", "sandbox"]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in _ETC_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev"]
    return args


def python_mounts(empty: Path | None = None) -> list[tuple[str, str]]:
    """The interpreter prefixes: base prefix at its own path, a venv at VENV_MOUNT.

    With ``empty`` (an empty, world-readable file), the venv's ``.pth`` files that only serve
    the grader itself (``GRADER_PTH``) are covered with it: inside the sandbox they would put the
    grader's source folder on ``sys.path`` (a host path that may name a sandbox folder, /work/...),
    and the editable install's import hook costs every sandboxed interpreter ~16 ms at start."""
    base = os.path.realpath(sys.base_prefix)
    if base == "/usr" or base.startswith("/usr/"):
        mounts = []
    elif any(base == r or base.startswith(r + "/") for r in _RESERVED) or base == "/":
        raise SandboxError(f"Python prefix {base} collides with a sandbox path")
    else:
        mounts = [(base, base)]
    if sys.prefix != sys.base_prefix:
        venv = os.path.realpath(sys.prefix)
        mounts.append((venv, VENV_MOUNT))
        if empty is not None:
            for pth in sorted(grader_pth_files(Path(venv))):
                mounts.append((str(empty), f"{VENV_MOUNT}/{pth.relative_to(venv).as_posix()}"))
    return mounts


def grader_pth_files(venv: Path) -> list[Path]:
    """The venv's ``.pth`` files of the grader's own install (``GRADER_PTH``), not a student's
    concern: site-packages of any Python version under ``lib``."""
    found = (venv.glob(f"lib/python3*/site-packages/{pattern}") for pattern in GRADER_PTH)
    return [pth for paths in found for pth in paths if pth.is_file() and not pth.is_symlink()]


def _dest(path: str) -> str:
    norm = os.path.normpath(path)
    if not norm.startswith("/") or norm in ("/", "/work") or ".." in Path(norm).parts:
        raise SandboxError(f"bad sandbox path {path!r} for a bind")
    return norm


def _outer_first(binds: list[tuple[str, str, bool]]) -> list[tuple[str, str, bool]]:
    """Binds in mount order: a folder before what is bound inside it (a read-only bind inside a
    writable one, e.g. a cached prefix in /autograder), else the later mount would hide it."""
    return sorted(binds, key=lambda bind: len(Path(bind[1]).parts))


def rlimits(limits: Limits, needs: RuntimeNeeds) -> list[tuple[int, tuple[int, int]]]:
    cpu = max(1, math.ceil(limits.cpu_seconds))
    # A JVM reserves far more address space than it uses; its heap is bounded by -Xmx instead.
    memory = limits.memory_mb + needs.extra_address_space_mb
    fsize = limits.file_size_mb << 20
    nproc = limits.max_processes + 2  # bwrap's own monitor and pid-1 reaper run as this uid too
    return [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (memory << 20, memory << 20)),
        (resource.RLIMIT_NPROC, (nproc, nproc)),
        (resource.RLIMIT_FSIZE, (fsize, fsize)),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_NOFILE, (256, 256)),
        (resource.RLIMIT_STACK, (8 << 20, 8 << 20)),
    ]


def sandbox_argv(
    bwrap: str,
    base: list[str],
    python: list[tuple[str, str]],
    spec: RunSpec,
    workdir: Path,
    space: scratch.Scratch | None,
    child: Child,
) -> list[str]:
    """bwrap's argv for ``spec`` up to its status and seccomp fds and the program: ``base``
    (``base_args``), the network, the runtime's host paths, the interpreter prefixes
    (``python``), the run's writable places (the scratch tmpfs ``space`` as root, else the
    workdir and bwrap's own tmpfs), the binds, and the environment. As root each bind source
    is staged for ``child`` (see the module docstring of ``sandbox.backends.bwrap``)."""
    limits = spec.limits
    argv = [bwrap, *base]
    argv += ["--share-net"] if limits.network else []
    if limits.network:
        for path in _ETC_NETWORK:
            argv += ["--ro-bind-try", path, path]
    for path in spec.needs.host_paths:  # world-readable system paths: no staging needed
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    binds = [(src, dst, False) for src, dst in python]
    if space is not None:  # /work, /tmp, /dev/shm and rw binds: folders of the scratch tmpfs
        binds.append((str(space.binds["/work"]), "/work", True))
        binds += [(str(space.binds[d]), d, True) for d in ("/tmp", "/dev/shm")]  # noqa: S108
        binds += _outer_first(
            [(src, _dest(dst), False) for src, dst in spec.ro_binds.items()]
            + [(str(space.binds[dst]), _dest(dst), True) for dst in spec.rw_binds.values()]
        )
    else:
        binds.append((str(workdir), "/work", True))
        binds += _outer_first(
            [(src, _dest(dst), False) for src, dst in spec.ro_binds.items()]
            + [(src, _dest(dst), True) for src, dst in spec.rw_binds.items()]
        )
        for dst in ("/tmp", "/dev/shm"):  # noqa: S108 - inside the sandbox
            argv += ["--perms", "1777", "--size", str(limits.tmp_size_mb << 20), "--tmpfs", dst]
    for n, (src, dst, rw) in enumerate(binds):
        if not os.path.exists(src):
            raise SandboxError(f"bind source {src} does not exist")
        if child.stage is not None:
            staged = f"{STATE_DIR}/stage/{n}"
            child.mounts.append((src.encode(), staged.encode(), os.path.isdir(src)))
            src = staged
        argv += ["--bind" if rw else "--ro-bind", src, dst]
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", spec.cwd, "--clearenv"]
    for key, value in child_environment(spec).items():
        argv += ["--setenv", key, value]
    return argv


__all__ = ["LIBC", "PR_SET_CHILD_SUBREAPER", "STATE_DIR", "VENV_MOUNT", "Child", "base_args",
           "check", "grader_pth_files", "python_mounts", "rlimits", "sandbox_argv"]
