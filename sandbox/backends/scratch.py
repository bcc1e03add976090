"""The writable places of one bubblewrap run, on one size- and inode-capped tmpfs.

As root, a run never writes the host's disk: ``/work``, ``/tmp``, ``/dev/shm`` and every
``rw_binds`` target are folders of one tmpfs mounted (in the grader's mount namespace, below a
root-only, non-propagating folder) at ``STATE_DIR/scratch/<uid>`` for the run's uid slot. Its
size is what was copied in plus ``tmp_size_mb`` plus a little slack, its inodes what was copied
in plus ``WORK_MAX_FILES``: the kernel refuses a write past the cap (ENOSPC) at the moment it is
made, so a burst (``fallocate`` of 512 MB) cannot land. Its pages are charged to the run's memory
cgroup as the program writes them. After the run the cap is checked once more (a program that
ignored ENOSPC and exited 0 still gets OUTPUT_LIMIT), the folders are copied back to the host
(``sandbox.fstree``: any depth, links as links, FIFOs/sockets/devices left out and logged)
unless ``discard_workdir``, and the tmpfs is unmounted. A crash leaves the mount behind; the
next run of the same slot unmounts it (``reset``).
"""

from __future__ import annotations

import ctypes
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from sandbox import fstree
from sandbox.types import SandboxError

log = logging.getLogger(__name__)

_LIBC = ctypes.CDLL(None, use_errno=True)
_MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_PRIVATE = 2, 4, 4096, 1 << 18
_MNT_DETACH = 2
SLACK_BYTES = 1 << 20  # room past the cap, so "wrote more than the cap" is measurable at exit


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise SandboxError(f"{what}: {os.strerror(err)}")


def prepare(base: Path) -> None:
    """Make ``base`` a private mount point (once), so the tmpfs mounted below it never
    propagate to other mount namespaces of the host."""
    base.mkdir(mode=0o700, exist_ok=True)
    if not _is_mount_point(base):
        _check(_LIBC.mount(bytes(base), bytes(base), None, _MS_BIND, None), f"bind {base}")
    _check(_LIBC.mount(None, bytes(base), None, _MS_PRIVATE, None), f"make {base} private")


def _is_mount_point(path: Path) -> bool:
    target = os.path.realpath(path)
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return False
    return any(line.split()[4] == target for line in lines if len(line.split()) > 4)


def reset(folder: Path) -> None:
    """Unmount and remove what a crashed run of this slot left at ``folder``."""
    while _is_mount_point(folder):
        _check(_LIBC.umount2(bytes(folder), _MNT_DETACH), f"unmount {folder}")
    if folder.exists():
        fstree.remove_tree(folder)


@dataclass
class Scratch:
    """The tmpfs of one run. ``binds`` maps sandbox paths to folders on it."""

    folder: Path
    cap_bytes: int
    max_files: int
    roots: list[tuple[Path, Path]] = field(default_factory=list)  # host folder, its copy here
    binds: dict[str, Path] = field(default_factory=dict)
    base: tuple[int, int] = (0, 0)  # bytes and inodes in use once everything was copied in
    mounted: bool = False

    @classmethod
    def create(cls, folder: Path, *, workdir: Path, rw_binds: dict[str, str], uid: int,
               cap_bytes: int, max_files: int) -> Scratch:
        """Mount the tmpfs at ``folder`` and copy ``workdir`` and the rw binds' sources onto it,
        owned by ``uid``. A rw source inside ``workdir`` is the same folder there (one copy);
        other rw sources get a copy each and must not lie inside one another."""
        reset(folder)
        scratch = cls(folder, cap_bytes, max_files)
        roots = [workdir]
        targets: dict[str, Path] = {"/work": Path("work")}
        for src, dst in rw_binds.items():
            path = Path(src).resolve()
            if path.is_relative_to(workdir):
                targets[dst] = Path("work") / path.relative_to(workdir)
                continue
            if any(path.is_relative_to(r) or r.is_relative_to(path) for r in roots[1:]):
                raise SandboxError(f"writable binds {src} and another one overlap")
            targets[dst] = Path(f"rw{len(roots)}")
            roots.append(path)
        size = inodes = 0
        for root in roots:
            used, count = fstree.tree_usage(root)
            size, inodes = size + used + 4096, inodes + count + 1
        folder.mkdir(mode=0o755)
        opts = (f"mode=755,size={size + cap_bytes + SLACK_BYTES},"
                f"nr_inodes={inodes + max_files + 8}")
        _check(_LIBC.mount(b"tmpfs", bytes(folder), b"tmpfs", _MS_NOSUID | _MS_NODEV,
                           opts.encode()), f"mount the scratch tmpfs at {folder}")
        scratch.mounted = True
        try:
            for root, name in zip(roots, ["work", *(f"rw{n}" for n in range(1, len(roots)))],
                                  strict=True):
                copy = folder / name
                skipped = fstree.copy_tree(root, copy, uid=uid, gid=uid)
                if skipped:
                    log.info("not copied into the sandbox (not a file, folder or link): %s",
                             ", ".join(s[:200] for s in skipped[:5]))
                scratch.roots.append((root, copy))
            for name in ("tmp", "shm"):
                (folder / name).mkdir()
                os.chmod(folder / name, 0o1777)  # noqa: S103 - the run's private /tmp
            targets["/tmp"], targets["/dev/shm"] = Path("tmp"), Path("shm")  # noqa: S108
            for dst, rel in targets.items():
                path = folder / rel
                if not path.is_dir() or path.is_symlink():
                    raise SandboxError(f"writable bind {dst} is not a folder")
                scratch.binds[dst] = path
            scratch.base = scratch._usage()
        except BaseException:
            scratch.close()
            raise
        return scratch

    def _usage(self) -> tuple[int, int]:
        st = os.statvfs(self.folder)
        return (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_files - st.f_ffree

    def exceeded(self) -> bool:
        """Did the run write more than the cap (bytes or files)? Asked after it ended."""
        used, files = self._usage()
        return used - self.base[0] > self.cap_bytes or files - self.base[1] > self.max_files

    def copy_back(self) -> None:
        """Replace each host folder's contents with its copy here (owner: the host folder's)."""
        for host, copy in self.roots:
            info = host.stat()
            fstree.clear_tree(host)
            skipped = fstree.copy_tree(copy, host, uid=info.st_uid, gid=info.st_gid)
            os.chmod(host, info.st_mode & 0o7777)  # the run does not choose the host's mode
            if skipped:
                log.info("a sandboxed run left %d special files in %s; not copied back: %s",
                         len(skipped), host, ", ".join(s[:200] for s in skipped[:5]))

    def close(self) -> None:
        if self.mounted:
            _check(_LIBC.umount2(bytes(self.folder), _MNT_DETACH), f"unmount {self.folder}")
            self.mounted = False
        try:
            self.folder.rmdir()
        except FileNotFoundError:
            pass


__all__ = ["Scratch", "prepare", "reset"]
