"""Moving a run's files into and out of its container: the workdir as a tar on the staging
exec's stdin (and the scripts that unpack it and measure the scratch space at exit), and the
untrusted tar of ``/work`` unpacked back into the host's workdir.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path, PurePosixPath

from sandbox import fstree

TRANSFER_CAP = 256 * 1024 * 1024  # bytes of /work we accept back from a run
SCRATCH_MOUNTS = ("/work", "/tmp", "/dev/shm")  # noqa: S108 (inside the container)
# Free blocks and inodes of the run's three tmpfs (stderr), then /work as a tar (stdout).
FINISH_SCRIPT = (
    'stat -f -c "%f %d" /work /tmp /dev/shm >&2; [ "$1" = keep ] || exit 0; '
    "exec tar -c -C /work ."
)

STAGED = b"\x00grader-staged\n"
RESET = b"\x00grader-reset\n"
STAGE_SECONDS = 10.0  # unpacking the workdir, on top of the program's wall limit (a loaded
# engine has taken more than 5 s to start an exec)
STAGE_SCRIPT = (
    'head -c "$1" | tar -x -m --no-same-owner -C /work -f - || exit 125; '
    "printf '\\000grader-staged\\n' >&2; shift; exec prlimit \"$@\""
)
# Put before STAGE_SCRIPT for a run in a container that already ran one of the submission's
# runs (``DockerSession``): every process of the sandbox uid killed until none is left, zombies
# reaped (``kill -0`` finds ours: root's docker-init and sleep refuse it); ``/work``, ``/tmp``,
# ``/dev/shm`` and the POSIX message queues emptied (dotfiles, folders the run made unreadable);
# the uid's SysV IPC removed; then the marker, on which the host reads the cgroup's counters
# and starts its peak memory again before it sends the workdir (``pump``'s ``hold``). Anything
# left (exit 126: no marker) and the run goes to a fresh container.
RESET_SCRIPT = (
    "n=0; while kill -9 -1 2>/dev/null; do left=; for p in /proc/[0-9]*; do p=${p#/proc/}; "
    '[ "$p" = $$ ] || ! kill -0 "$p" 2>/dev/null || left=1; done; [ "$left" ] || break; '
    "n=$((n+1)); [ $n -lt 20 ] || sleep 0.01; [ $n -lt 400 ] || exit 126; done; "
    "chmod -R u+rwx /work /tmp /dev/shm 2>/dev/null; "
    "find /work /tmp /dev/shm -mindepth 1 -delete || exit 126; "
    "[ ! -d /dev/mqueue ] || find /dev/mqueue -mindepth 1 -delete || exit 126; "
    "ipcrm --all 2>/dev/null; printf '\\000grader-reset\\n' >&2; "
)


def tar_of(workdir: Path, covered: list[PurePosixPath]) -> bytes:
    """Folders and regular files of ``workdir`` (any depth; links, FIFOs, sockets left out)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in fstree.walk(workdir):
            kind = entry.kind
            if kind not in ("dir", "file") or any(
                PurePosixPath(entry.path).is_relative_to(c) for c in covered
            ):
                continue
            info = tarfile.TarInfo(entry.path)
            info.mode = stat.S_IMODE(entry.info.st_mode)
            info.mtime = int(entry.info.st_mtime)
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                continue
            fd = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                         dir_fd=entry.dir_fd)
            with os.fdopen(fd, "rb") as fh:
                info.size = os.fstat(fd).st_size
                tar.addfile(info, fh)
    return buf.getvalue()


def untar_into(data: bytes, workdir: Path) -> None:
    """Replace ``workdir``'s contents with the folders and regular files of an archive that
    came out of an untrusted container: no links, no special files, no path outside, any depth
    (``sandbox.fstree``), owned like ``workdir``."""
    owner = workdir.stat()
    fstree.clear_tree(workdir)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar, fstree.TreeWriter(
        workdir, uid=owner.st_uid, gid=owner.st_gid
    ) as writer:
        for member in tar:
            parts = tuple(p for p in PurePosixPath(member.name).parts if p != ".")
            if not parts or member.name.startswith("/") or ".." in parts:
                continue
            mode = member.mode & 0o755  # like tarfile's "data" filter: no group/other write
            try:
                if member.isdir():
                    writer.mkdir(parts, mode)
                elif member.isfile():
                    source = tar.extractfile(member)
                    if source is not None:
                        writer.file(parts, source, mode, int(member.mtime) * 10**9, member.size)
            except (FileExistsError, NotADirectoryError):
                continue  # a name listed twice, or a file where a folder should be


__all__ = ["FINISH_SCRIPT", "RESET", "RESET_SCRIPT", "SCRATCH_MOUNTS", "STAGED", "STAGE_SCRIPT",
           "STAGE_SECONDS", "TRANSFER_CAP", "tar_of", "untar_into"]
