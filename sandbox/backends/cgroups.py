"""Per-run cgroup v1 groups for the bubblewrap backend: memory (with swap) and pids.

Where groups are made. Only below ``<this process's own group>/grader`` in each hierarchy (e.g.
``/sys/fs/cgroup/memory/grader/`` for a process in the root group), so whatever limits the host
puts on the grader's own group still hold for its runs, and no group this code did not make is
ever written, moved or removed. A run's group is named ``slot<uid>-<pid>-<n>``: only the process
holding that uid slot's lock (see ``BubblewrapBackend._slot``) makes or removes groups starting
with ``slot<uid>-``, so a group of that slot found while holding the lock is a leftover of a
crashed run and is removed then (its processes killed first).

What is counted. A v1 memory group charges every page its processes fault in: anonymous memory,
shared memory (memfd, SysV shm, ``MAP_SHARED``), tmpfs pages (``/work``, ``/tmp``, ``/dev/shm``
of the run) and the page cache they read. ``memory.limit_in_bytes`` and, when the kernel keeps
swap accounting, ``memory.memsw.limit_in_bytes`` at the same value (no swapping out of the
limit). Past it the kernel reclaims page cache, then OOM-kills inside the group only; the verdict
comes from the group's ``oom_kill`` counter (``memory.oom_control``). ``pids.max`` bounds the
tasks (processes and threads) of the run together, whatever their uid.

Without a writable v1 ``memory`` and ``pids`` hierarchy (not mounted, not root, a read-only
``/sys/fs/cgroup``, a cgroup2-only host) :func:`probe` says why and the backend runs on rlimits
alone. cgroup2 is not used: on a v2 host the grader would need a delegated subtree.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CONTROLLERS = ("memory", "pids")
SUBTREE = "grader"
_NAMES = itertools.count(1)


@dataclass(frozen=True)
class Usage:
    """What a run's memory group counted (bytes) and whether the kernel OOM-killed in it."""

    peak_bytes: int
    limit_bytes: int
    failcnt: int
    oom_kills: int


class RunGroup:
    """The groups of one run, one per controller. Join them with :attr:`procs_files` (write the
    pid, before the program starts), read :meth:`usage` once it ended, then :meth:`remove`."""

    def __init__(self, dirs: dict[str, Path]) -> None:
        self.dirs = dirs
        self.procs_files = [bytes(d / "cgroup.procs") for d in dirs.values()]

    @property
    def name(self) -> str:
        return next(iter(self.dirs.values())).name

    def usage(self) -> Usage:
        memory = self.dirs["memory"]
        oom = 0
        for line in _read(memory / "memory.oom_control").splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                oom = int(value)
        return Usage(
            peak_bytes=_read_int(memory / "memory.max_usage_in_bytes"),
            limit_bytes=_read_int(memory / "memory.limit_in_bytes"),
            failcnt=_read_int(memory / "memory.failcnt"),
            oom_kills=oom,
        )

    def remove(self, *, wait_s: float = 5.0) -> None:
        """Kill what is still in the groups (nothing, after a normal teardown), then remove them,
        and the subtree too when no other run has a group there."""
        for folder in self.dirs.values():
            _remove_group(folder, wait_s)
            _remove_if_empty(folder.parent)


class Cgroups:
    """This process's own place in the v1 ``memory`` and ``pids`` hierarchies."""

    def __init__(self, parents: dict[str, Path], memsw: bool) -> None:
        self.parents = parents  # controller -> <own group>/grader
        self.memsw = memsw  # swap accounting: memory.memsw.limit_in_bytes exists

    def create(self, uid: int, *, memory_bytes: int, pids: int) -> RunGroup:
        """Fresh groups for a run in slot ``uid`` (the caller holds the slot's lock)."""
        self.sweep(uid)
        name = f"slot{uid}-{os.getpid()}-{next(_NAMES)}"
        dirs: dict[str, Path] = {}
        group = RunGroup(dirs)
        try:
            for controller, parent in self.parents.items():
                dirs[controller] = _make_group(parent, name)
            memory = dirs["memory"]
            _write(memory / "memory.limit_in_bytes", memory_bytes)
            if self.memsw:
                _write(memory / "memory.memsw.limit_in_bytes", memory_bytes)
            _write(dirs["pids"] / "pids.max", pids)
        except OSError:
            group.remove(wait_s=0.5)
            raise
        group.procs_files = [bytes(d / "cgroup.procs") for d in dirs.values()]
        return group

    def sweep(self, uid: int) -> list[str]:
        """Remove groups a crashed run of slot ``uid`` left (the caller holds the slot's lock)."""
        removed = []
        for parent in self.parents.values():
            try:
                stale = [p for p in parent.iterdir()
                         if p.is_dir() and p.name.startswith(f"slot{uid}-")]
            except FileNotFoundError:
                continue
            for folder in stale:
                _remove_group(folder, 5.0)
                removed.append(str(folder))
            _remove_if_empty(parent)
        return removed

    def groups(self) -> list[Path]:
        """Every run group below the subtree right now (tests look for leftovers)."""
        found: list[Path] = []
        for parent in self.parents.values():
            if parent.is_dir():
                found += [p for p in parent.iterdir() if p.is_dir()]
        return found


def probe() -> tuple[Cgroups | None, str]:
    """The grader's cgroups, or None and why they cannot be used here."""
    if os.geteuid() != 0:
        return None, "not running as root"
    mounts = _v1_mounts()
    own = _own_groups()
    parents: dict[str, Path] = {}
    for controller in CONTROLLERS:
        if controller not in mounts:
            return None, f"no cgroup v1 {controller} hierarchy is mounted"
        mountpoint, mount_root = mounts[controller]
        path = own.get(controller, "/")
        if not (path + "/").startswith(mount_root.rstrip("/") + "/"):
            return None, f"this process's {controller} group {path} is outside its mount"
        rel = path[len(mount_root.rstrip("/")):].strip("/")
        parent = mountpoint / rel / SUBTREE if rel else mountpoint / SUBTREE
        try:  # a group of our own can be made there: the test leaves nothing behind
            _remove_group(_make_group(parent, f"probe-{os.getpid()}"), 1.0)
        except OSError as exc:
            return None, f"cannot make groups in {parent.parent}: {exc.strerror or exc}"
        _remove_if_empty(parent)
        parents[controller] = parent
    # Swap accounting (a boot option) shows as memsw files in every memory group.
    memsw = (parents["memory"].parent / "memory.memsw.limit_in_bytes").exists()
    return Cgroups(parents, memsw), ""


def _make_group(parent: Path, name: str) -> Path:
    """mkdir ``parent/name``, making the subtree ``parent`` too. Another process removes the
    subtree when it finds it empty (``_remove_if_empty``), so that may need a second try."""
    for _ in range(5):
        try:  # not mkdir(exist_ok=True): it checks is_dir() after EEXIST, and the subtree may
            os.mkdir(parent, 0o755)  # be removed in between, which raised FileExistsError
        except FileExistsError:
            pass
        try:
            (parent / name).mkdir(mode=0o755)
        except FileNotFoundError:
            continue
        return parent / name
    raise FileNotFoundError(f"{parent} keeps disappearing")


def _remove_if_empty(parent: Path) -> None:
    """The subtree goes when it holds no group (the kernel refuses while it does), so nothing
    of ours is left in the host's group once the grader is idle."""
    try:
        parent.rmdir()
    except OSError:
        pass


def _v1_mounts() -> dict[str, tuple[Path, str]]:
    """controller -> (mount point, root of the hierarchy that mount shows), from mountinfo."""
    found: dict[str, tuple[Path, str]] = {}
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        if len(fields) < sep + 4 or fields[sep + 1] != "cgroup":
            continue
        options = set(fields[sep + 3].split(","))
        for controller in CONTROLLERS:
            if controller in options and controller not in found:
                found[controller] = (Path(_unescape(fields[4])), _unescape(fields[3]))
    return found


def _own_groups() -> dict[str, str]:
    own: dict[str, str] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return own
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            own[controller] = path
    return own


def _unescape(text: str) -> str:
    return text.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")


def _remove_group(folder: Path, wait_s: float) -> None:
    """rmdir a group of ours; whatever still runs in it is ours too and is killed first."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() >= deadline:
                raise
        for pid in _read(folder / "cgroup.procs").split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                continue
        time.sleep(0.01)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _read_int(path: Path) -> int:
    text = _read(path).strip()
    return int(text) if text.isdigit() else 0


def _write(path: Path, value: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


__all__ = ["CONTROLLERS", "Cgroups", "RunGroup", "Usage", "probe"]
