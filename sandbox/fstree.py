"""Copy, measure and remove folders a sandboxed program could have shaped, without recursion.

A submission decides what its workspace holds: 3000 nested folders, symbolic links to anywhere,
FIFOs, sockets, folders without permissions. ``shutil.copytree``/``rmtree``, ``os.walk`` and
``Path.rglob`` recurse on Python's stack (RecursionError near 1000 levels), build full paths
(ENAMETOOLONG past 4096 bytes) and open a FIFO (a copy blocks or raises). Everything here:

* walks with one open folder per tree and a stack of names, moving down with ``openat`` and up
  with ``..`` checked against the inode it came from: no recursion, no long paths, any depth;
* never follows a symbolic link (every open is ``O_NOFOLLOW`` or ``O_DIRECTORY|O_NOFOLLOW``
  relative to an open folder; links are copied as links, never read through);
* stays on the root's file system (a mount point below it is not entered);
* sorts what it finds by type: folders, regular files and links are copied; anything else
  (FIFO, socket, device) is *special*: copies skip it and report it, removals unlink it.

None of this is safe against a tree that changes while it is walked (a live sandboxed process
renaming folders): walk a workspace only once every process of its run is gone.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO swapped in for a checked regular file must not block the open.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 20

# ignore(relative folder, names in it) -> names to leave out; the shutil.copytree signature.
Ignore = Callable[[str, list[str]], "set[str] | frozenset[str]"]


class TreeError(OSError):
    """A tree could not be walked as it was found (moved while walked, not a folder...)."""


@dataclass(frozen=True)
class Entry:
    """One thing found by :func:`walk`. ``dir_fd`` is its open parent folder: valid only until
    the walk moves on, and the way to act on it (``os.unlink(entry.name, dir_fd=...)``)."""

    parts: tuple[str, ...]  # path below the root, one name per level
    info: os.stat_result  # lstat: of the link itself for a link
    dir_fd: int
    leaving: bool = False  # a folder yielded again after its contents (``walk(leave=True)``)
    mount: bool = False  # a folder on another file system than the root's: not entered

    @property
    def name(self) -> str:
        return self.parts[-1]

    @property
    def path(self) -> str:
        return "/".join(self.parts)

    @property
    def kind(self) -> str:
        """"dir", "file", "symlink", "mount" (a folder on another file system) or "special"."""
        mode = self.info.st_mode
        if stat.S_ISDIR(mode):
            return "mount" if self.mount else "dir"
        if stat.S_ISREG(mode):
            return "file"
        if stat.S_ISLNK(mode):
            return "symlink"
        return "special"


class _Cursor:
    """One open folder somewhere below ``root``, moved by name; remembers the inodes above it."""

    def __init__(self, root: str | Path) -> None:
        self.fd = os.open(root, _DIR_FLAGS)
        info = os.fstat(self.fd)
        self.dev = info.st_dev
        self.ids = [(info.st_dev, info.st_ino)]
        self.names: list[str] = []

    def down(self, name: str) -> None:
        fd = os.open(name, _DIR_FLAGS, dir_fd=self.fd)
        info = os.fstat(fd)
        os.close(self.fd)
        self.fd = fd
        self.ids.append((info.st_dev, info.st_ino))
        self.names.append(name)

    def up(self) -> str:
        fd = os.open("..", _DIR_FLAGS, dir_fd=self.fd)
        info = os.fstat(fd)
        if (info.st_dev, info.st_ino) != self.ids[-2]:
            os.close(fd)
            raise TreeError(f"folder {'/'.join(self.names)!r} moved while it was walked")
        os.close(self.fd)
        self.fd = fd
        self.ids.pop()
        return self.names.pop()

    def close(self) -> None:
        os.close(self.fd)


def _listing(fd: int, parts: tuple[str, ...],
             ignore: Ignore | None) -> list[tuple[str, os.stat_result]]:
    with os.scandir(fd) as it:
        found = [(e.name, e.stat(follow_symlinks=False)) for e in it]
    if ignore is not None and found:
        left_out = ignore("/".join(parts), [name for name, _ in found])
        found = [(name, st) for name, st in found if name not in left_out]
    return found


def walk(root: str | Path, *, ignore: Ignore | None = None, leave: bool = False,
         force: bool = False) -> Iterator[Entry]:
    """Everything below ``root`` (a folder; not itself), folders before their contents.

    With ``leave`` each folder comes once more after its contents (``leaving`` True), the time to
    remove it or set its mode. With ``force`` a folder this process owns is made ``rwx`` for it
    before it is entered (a removal must be able to list and empty it). Symbolic links are
    yielded, never followed; a folder on another file system is yielded as kind "mount" and
    not entered.
    """
    cursor = _Cursor(root)
    try:
        levels = [iter(_listing(cursor.fd, (), ignore))]
        parts: tuple[str, ...] = ()
        me = os.geteuid()
        while levels:
            item = next(levels[-1], None)
            if item is None:
                levels.pop()
                if parts:
                    name = cursor.up()
                    info = os.stat(name, dir_fd=cursor.fd, follow_symlinks=False)
                    if leave:
                        yield Entry(parts, info, cursor.fd, leaving=True)
                    parts = parts[:-1]
                continue
            name, info = item
            here = (*parts, name)
            if stat.S_ISDIR(info.st_mode) and info.st_dev != cursor.dev:
                yield Entry(here, info, cursor.fd, mount=True)
                continue
            yield Entry(here, info, cursor.fd)
            if not stat.S_ISDIR(info.st_mode):
                continue
            if force and info.st_uid == me and info.st_mode & 0o700 != 0o700:
                os.chmod(name, 0o700, dir_fd=cursor.fd, follow_symlinks=True)  # a folder: no link
            cursor.down(name)
            parts = here
            levels.append(iter(_listing(cursor.fd, parts, ignore)))
    finally:
        cursor.close()


class TreeWriter:
    """Builds a tree below an existing folder, entry by entry, in walk order (parents first).

    Moves its one open folder along the paths it is given, so a deep tree costs no long path
    and a tree in pre-order costs O(1) moves per entry. New files and folders get ``uid``/``gid``
    when given (else the writer's own); a folder's mode is set once the writer leaves it, so a
    read-only folder can still be filled.
    """

    def __init__(self, root: str | Path, *, uid: int | None = None, gid: int | None = None) -> None:
        self._cursor = _Cursor(root)
        self._owner = (uid, gid) if uid is not None and gid is not None else None
        self._modes: list[int | None] = []  # mode to set on each folder of the path, on leaving

    def _goto(self, folder: tuple[str, ...]) -> None:
        names = self._cursor.names
        here = tuple(names)
        if here == folder:  # the common case in walk order; compared in C, not name by name
            return
        if folder[: len(here)] == here:
            common = len(here)
        elif here[: len(folder)] == folder:
            common = len(folder)
        else:
            common = 0
            while common < min(len(names), len(folder)) and names[common] == folder[common]:
                common += 1
        while len(names) > common:
            self._leave()
        for name in folder[common:]:
            try:
                os.mkdir(name, 0o700, dir_fd=self._cursor.fd)
                self._own(name)
                mode: int | None = 0o755
            except FileExistsError:
                mode = None
            self._cursor.down(name)
            self._modes.append(mode)

    def _leave(self) -> None:
        mode = self._modes.pop()
        name = self._cursor.up()
        if mode is not None:
            os.chmod(name, mode, dir_fd=self._cursor.fd)

    def _own(self, name: str) -> None:
        if self._owner is not None:
            os.chown(name, *self._owner, dir_fd=self._cursor.fd, follow_symlinks=False)

    def mkdir(self, parts: tuple[str, ...], mode: int) -> None:
        """A folder (an existing one is kept, its mode replaced); the writer moves into it."""
        self._goto(parts[:-1])
        name = parts[-1]
        try:
            os.mkdir(name, 0o700, dir_fd=self._cursor.fd)
            self._own(name)
        except FileExistsError:
            pass
        self._cursor.down(name)
        self._modes.append(stat.S_IMODE(mode) & 0o1777)

    def file(self, parts: tuple[str, ...], source: int | IO[bytes], mode: int,
             mtime_ns: int | None = None, size: int | None = None) -> None:
        """A regular file with the bytes of ``source`` (an open fd or a binary file object)."""
        self._goto(parts[:-1])
        fd = os.open(parts[-1], _NEW_FILE_FLAGS, 0o600, dir_fd=self._cursor.fd)
        try:
            if isinstance(source, int):
                while os.sendfile(fd, source, None, _CHUNK) > 0:
                    pass
            else:
                left = size
                while left is None or left > 0:
                    chunk = source.read(_CHUNK if left is None else min(left, _CHUNK))
                    if not chunk:
                        break
                    _write_all(fd, chunk)
                    if left is not None:
                        left -= len(chunk)
            if self._owner is not None:
                os.fchown(fd, *self._owner)
            os.fchmod(fd, stat.S_IMODE(mode) & 0o777)  # no setuid, setgid or sticky files
            if mtime_ns is not None:
                os.utime(fd, ns=(mtime_ns, mtime_ns))
        finally:
            os.close(fd)

    def symlink(self, parts: tuple[str, ...], target: str) -> None:
        """A symbolic link holding ``target`` (never resolved here)."""
        self._goto(parts[:-1])
        os.symlink(target, parts[-1], dir_fd=self._cursor.fd)
        self._own(parts[-1])

    def close(self) -> None:
        """Set the modes of the folders still open and let go of the tree."""
        try:
            while self._cursor.names:
                self._leave()
        finally:
            self._cursor.close()

    def __enter__(self) -> TreeWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def copy_tree(source: str | Path, target: str | Path, *, ignore: Ignore | None = None,
              uid: int | None = None, gid: int | None = None) -> list[str]:
    """Copy the contents of folder ``source`` into folder ``target`` (made when missing).

    Folders, regular files (bytes, permission bits without setuid/setgid, mtime) and symbolic
    links (as links) are copied; ``target`` gets the mode of ``source``. With ``uid``/``gid``
    everything new belongs to them. Returns the paths (relative, "/"-joined) of what was left
    out because it is neither: FIFOs, sockets, devices, mount points. Existing files in
    ``target`` are not overwritten: an entry already there raises ``FileExistsError``.
    """
    target = Path(target)
    root_info = os.stat(source, follow_symlinks=False)
    if not stat.S_ISDIR(root_info.st_mode):
        raise TreeError(f"{source} is not a folder")
    try:
        os.mkdir(target, 0o700)
        if uid is not None and gid is not None:
            os.chown(target, uid, gid, follow_symlinks=False)
    except FileExistsError:
        pass
    skipped: list[str] = []
    with TreeWriter(target, uid=uid, gid=gid) as writer:
        for entry in walk(source, ignore=ignore, leave=True):
            kind = entry.kind
            if entry.leaving:
                continue  # the writer sets a folder's mode when it moves on
            if kind == "dir":
                writer.mkdir(entry.parts, entry.info.st_mode)
            elif kind == "file":
                _copy_file(writer, entry)
            elif kind == "symlink":
                writer.symlink(entry.parts, os.readlink(entry.name, dir_fd=entry.dir_fd))
            else:
                skipped.append(entry.path)
    os.chmod(target, stat.S_IMODE(root_info.st_mode) & 0o1777)
    if skipped:
        log.info("copy of %s skipped %d special files (FIFOs, sockets, devices, mounts): %s",
                 source, len(skipped), ", ".join(p[:200] for p in skipped[:5]))
    return skipped


def _copy_file(writer: TreeWriter, entry: Entry) -> None:
    fd = os.open(entry.name, _FILE_FLAGS, dir_fd=entry.dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # swapped since it was listed
            raise TreeError(f"{entry.path!r} is no longer a regular file")
        writer.file(entry.parts, fd, info.st_mode, info.st_mtime_ns)
    finally:
        os.close(fd)


def clear_tree(folder: str | Path) -> None:
    """Remove everything inside ``folder``, keeping the folder itself."""
    for entry in walk(folder, leave=True, force=True):
        try:
            if entry.leaving:
                os.rmdir(entry.name, dir_fd=entry.dir_fd)
            elif entry.kind != "dir":
                os.unlink(entry.name, dir_fd=entry.dir_fd)
        except FileNotFoundError:
            continue


def remove_tree(path: str | Path) -> None:
    """Remove ``path`` and everything below it; a link is removed, never followed. Missing is
    fine. A mount point below it makes this fail (its folder cannot be removed)."""
    try:
        info = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(path)
        return
    if info.st_uid == os.geteuid() and info.st_mode & 0o700 != 0o700:
        os.chmod(path, 0o700)
    clear_tree(path)
    os.rmdir(path)


def tree_usage(root: str | Path, *, limit: int = 10_000_000) -> tuple[int, int]:
    """(bytes, entries) below ``root``: bytes as the larger of allocated and apparent size
    rounded up to 4 KiB pages (what a copy onto tmpfs takes), links never followed. Stops
    counting after ``limit`` entries. A tree that cannot be walked to its end (an unreadable
    folder, a live process moving folders) gives what was counted until then."""
    size = count = 0
    try:
        for entry in walk(root):
            count += 1
            info = entry.info
            size += max(info.st_blocks * 512, -(-info.st_size // 4096) * 4096, 4096)
            if count >= limit:
                break
    except OSError as exc:
        log.debug("usage of %s counted up to an error: %s", root, exc)
    return size, count


@contextmanager
def temporary_folder(prefix: str, parent: str | Path | None = None) -> Iterator[Path]:
    """Like ``tempfile.TemporaryDirectory``, removed with :func:`remove_tree` (any shape)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield folder
    finally:
        discard(folder)


def discard(path: str | Path) -> None:
    """:func:`remove_tree`, logging instead of raising: for cleanup paths."""
    try:
        remove_tree(path)
    except OSError:
        log.exception("could not remove %s", path)


__all__ = [
    "Entry", "TreeError", "TreeWriter", "clear_tree", "copy_tree", "discard", "remove_tree",
    "temporary_folder", "tree_usage", "walk",
]
