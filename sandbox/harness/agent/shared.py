"""The test's temporary folders, mirrored both ways between a test and its student process.

Under plain pytest a test writes a file in ``tmp_path`` and hands its path to the student's code,
or has the student's code write one there and reads it back. Here the two run in different
sandboxes, each with its own ``/tmp``. The trusted process runs pytest with its base temporary
folder at ``ROOT`` (``--basetemp``), and every message that crosses the channel, on either side,
carries what changed under ``ROOT`` since that side last sent or received it (:class:`Mirror`):
the receiver writes it at the same absolute path before it acts on the message. So the student's
code sees the test's files when it is called, and the test sees the student's files when the
call returns, as in one process.

Only folders and regular files travel, by content (base64 in the JSON message), within
``MAX_FILES`` entries and ``MAX_BYTES`` of content per message; anything else under ``ROOT``
(links, FIFOs, sockets) stays on its own side. What the student side sends is data like any
return value: names are checked (relative, no ``..``, at most ``MAX_DEPTH`` deep), files are
written through folder descriptors opened without following links, so nothing can land outside
``ROOT``, and no link the student made is ever followed by the test.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import shutil
import stat
import time
from collections.abc import Callable
from typing import Any

ROOT = "/tmp/grader-tmp"  # noqa: S108 - the sandbox's private /tmp (pytest --basetemp)
MAX_FILES = 2000  # entries (files and folders) under ROOT that are mirrored
MAX_BYTES = 2 << 20  # bytes of file content one message carries
MAX_DEPTH = 32
MAX_NAME = 255
# File times come from a coarse clock (a few ms): two writes in one tick may leave the same size
# and time. Content read when the file's time was this close to the clock is read again next
# time; once it is older, a later write must change the time, and ``stat`` tells.
SETTLE_NS = 50_000_000
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

Signature = tuple[int, int, int, int]  # mode kind, size, mtime_ns, inode
# relative path -> (stat, content of a file or None for a folder, content settled)
Known = dict[str, tuple[Signature, bytes | None, bool]]


class Mirror:
    """One side's end: what it last sent or received, to send only what changed since."""

    def __init__(self, root: str = ROOT) -> None:
        self.root = root
        self.known: Known = {}

    def baseline(self) -> None:
        """Take what is under the root now as already on the other side, without sending it:
        an earlier test's folders (pytest removes them when this test first asks for one, and
        that removal is what reaches the student) stay out of this test's messages."""
        self.known = {rel: (_signature(info), None, True) for rel, info in _walk(self.root)}

    # -- messages --------------------------------------------------------------------------

    def attach(self, message: dict[str, Any]) -> dict[str, Any]:
        """``message`` with what changed since the last one (``files``), when anything did."""
        delta = self.changes()
        return message if delta is None else {**message, "files": delta}

    def receive(self, message: dict[str, Any]) -> None:
        """Write what the peer's ``message`` brought (see ``attach``)."""
        self.apply(message.get("files"))

    # -- sending ---------------------------------------------------------------------------

    def changes(self) -> dict[str, Any] | None:
        """What changed under the root since the last message: ``d`` new folders, ``f`` files
        (path -> base64 content), ``g`` paths gone; None when nothing did. Cheap when there is
        no root (one failed ``stat``), as for every test that does not use ``tmp_path``."""
        if not self.known and not os.path.isdir(self.root):
            return None
        now = time.time_ns()
        found: Known = {}
        dirs: list[str] = []
        files: dict[str, str] = {}
        budget = MAX_BYTES
        for rel, info in _walk(self.root):
            signature = _signature(info)
            old = self.known.get(rel)
            if stat.S_ISDIR(info.st_mode):
                found[rel] = (signature, None, True)
                if old is None or old[1] is not None or old[0] != signature:  # new, or made
                    # again (an earlier test's folder of the same name removed by pytest)
                    dirs.append(rel)
                continue
            if old is not None and old[0] == signature and old[2]:
                found[rel] = old  # unchanged since its content was read and settled
                continue
            data = None
            if info.st_size <= budget:  # one byte more than its size: it may be growing
                data = _read(os.path.join(self.root, rel), info.st_size + 1)
            if data is None or len(data) > budget:
                if old is not None:  # over what this message carries: left for a later one
                    found[rel] = old
                continue
            found[rel] = (signature, data, now - info.st_mtime_ns > SETTLE_NS)
            if old is None or old[1] != data:
                files[rel] = base64.b64encode(data).decode("ascii")
                budget -= len(data)
        gone = sorted(rel for rel in self.known if rel not in found)
        self.known = found
        delta: dict[str, Any] = {}
        if dirs:
            delta["d"] = dirs
        if files:
            delta["f"] = files
        if gone:
            delta["g"] = gone
        return delta or None

    # -- receiving -------------------------------------------------------------------------

    def apply(self, delta: object) -> None:
        """Write what the peer sent (see ``changes``); anything malformed is left out."""
        if not isinstance(delta, dict):
            return
        gone, dirs, files = delta.get("g"), delta.get("d"), delta.get("f")
        if not os.path.isdir(self.root):
            with contextlib.suppress(OSError):
                os.makedirs(self.root, 0o700, exist_ok=True)
        root = _open_dir(self.root)
        if root is None:
            return
        try:
            for rel in _paths(gone):
                self._remove(root, rel)
            for rel in _paths(dirs):
                self._mkdir(root, rel)
            if isinstance(files, dict):
                budget = MAX_BYTES
                for rel in _paths(list(files)):
                    data = _decode(files[rel], budget)
                    if data is None:
                        continue
                    budget -= len(data)
                    self._write(root, rel, data)
            self._settle_folders()
        finally:
            os.close(root)

    def _settle_folders(self) -> None:
        """Folders as they are after what was written into them: not news to send back."""
        for rel, (_, data, _) in list(self.known.items()):
            if data is None:
                try:
                    info = os.stat(os.path.join(self.root, rel), follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(info.st_mode):
                    self.known[rel] = (_signature(info), None, True)

    def _remove(self, root: int, rel: str) -> None:
        self.known = {k: v for k, v in self.known.items()
                      if k != rel and not k.startswith(rel + "/")}
        parent, name = _parent(root, rel, create=False)
        if parent is None:
            return
        try:
            _clear(parent, name)
        except OSError:
            pass
        finally:
            os.close(parent)

    def _mkdir(self, root: int, rel: str) -> None:
        parent, name = _parent(root, rel, create=True)
        if parent is None:
            return
        try:
            _clear(parent, name, keep=stat.S_ISDIR)  # a file or link in its place goes
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o700, dir_fd=parent)
            info = os.stat(name, dir_fd=parent, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                self.known[rel] = (_signature(info), None, True)
        except OSError:
            pass
        finally:
            os.close(parent)

    def _write(self, root: int, rel: str, data: bytes) -> None:
        parent, name = _parent(root, rel, create=True)
        if parent is None:
            return
        try:
            _clear(parent, name, keep=stat.S_ISREG)  # a folder or link in its place goes
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o600, dir_fd=parent)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                self.known[rel] = (_signature(os.fstat(fd)), data, False)
            finally:
                os.close(fd)
        except OSError:
            pass
        finally:
            os.close(parent)


def _clear(parent: int, name: str, keep: Callable[[int], bool] | None = None) -> None:
    """Remove ``name`` of folder ``parent`` (a folder with everything in it, never through a
    link), unless ``keep`` of its mode says it stays."""
    try:
        info = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return
    if keep is not None and keep(info.st_mode):
        return
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(name, dir_fd=parent)
    else:
        os.unlink(name, dir_fd=parent)


def _signature(info: os.stat_result) -> Signature:
    return (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns, info.st_ino)


def _walk(root: str) -> list[tuple[str, os.stat_result]]:
    """Folders and regular files under ``root`` (relative "/" paths), links not followed,
    at most ``MAX_FILES`` of them and ``MAX_DEPTH`` deep, in a stable order."""
    found: list[tuple[str, os.stat_result]] = []
    stack: list[tuple[str, int]] = [("", 0)]
    while stack and len(found) < MAX_FILES:
        rel, depth = stack.pop()
        try:
            with os.scandir(os.path.join(root, rel) if rel else root) as entries:
                listed = sorted(entries, key=lambda e: e.name)
        except OSError:
            continue
        below: list[tuple[str, int]] = []
        for entry in listed:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            path = f"{rel}/{entry.name}" if rel else entry.name
            if stat.S_ISDIR(info.st_mode) and depth + 1 < MAX_DEPTH:
                found.append((path, info))
                below.append((path, depth + 1))
            elif stat.S_ISREG(info.st_mode):
                found.append((path, info))
            if len(found) >= MAX_FILES:
                break
        stack.extend(reversed(below))
    return found


def _read(path: str, limit: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: list[bytes] = []
        size = 0
        while size < limit:
            chunk = os.read(fd, min(1 << 20, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _paths(value: object) -> list[str]:
    """The valid relative paths of a peer's list; anything else is dropped."""
    if not isinstance(value, list):
        return []
    valid = []
    for rel in value[:MAX_FILES]:
        if not isinstance(rel, str) or "\0" in rel or rel.startswith("/"):
            continue
        parts = rel.split("/")
        if len(parts) > MAX_DEPTH or any(
            p in ("", ".", "..") or len(p.encode("utf-8", "surrogateescape")) > MAX_NAME
            for p in parts
        ):
            continue
        valid.append(rel)
    return valid


def _decode(value: object, budget: int) -> bytes | None:
    if not isinstance(value, str) or len(value) > (budget + 2) // 3 * 4 + 4:
        return None
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if len(data) <= budget else None


def _open_dir(path: str, dir_fd: int | None = None) -> int | None:
    try:
        return os.open(path, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None


def _parent(root: int, rel: str, *, create: bool) -> tuple[int | None, str]:
    """A descriptor of the folder that holds ``rel`` (made when ``create``), reached from
    ``root`` one name at a time without following a link; None when it cannot be."""
    *folders, name = rel.split("/")
    current = os.dup(root)
    for folder in folders:
        if create:
            with contextlib.suppress(OSError):
                os.mkdir(folder, 0o700, dir_fd=current)
        below = _open_dir(folder, current)
        os.close(current)
        if below is None:
            return None, name
        current = below
    return current, name


__all__ = ["MAX_BYTES", "MAX_FILES", "ROOT", "Mirror"]
