"""Host folders of one pytest run: the tests, the helpers, the trusted and student work folders.

One :class:`Layout` per ``run_pytest_plan`` call, all under one temporary folder: a copy of the
package's tests (read-only in the trusted sandbox), the helper files of tests/ without test
modules, ``conftest.py`` or a file named like the student module (read-only in student
sandboxes), the trusted side's ``/work`` and, per student sandbox, an empty ``/work`` and a
readable copy of the submission it restores ``/work`` from before each test.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox import fstree
from sandbox.harness.agent.codec import HelperRegistry

MAX_SOURCE = 4 << 20  # bytes of the student's module sent to the trusted side as text
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


@dataclass
class Layout:
    """Host folders of one run_pytest_file call (all under one temporary folder)."""

    root: Path
    tests: Path  # copy of the package tests, read-only in the trusted sandbox
    helpers: Path  # tests/ minus test modules, read-only in student sandboxes
    trusted_work: Path
    submission: Path
    helper_modules: list[str] = field(default_factory=list)
    fingerprint: str = ""  # hash of every file of the tests folder

    @classmethod
    def create(cls, root: Path, tests_dir: Path, submission: Path, module_name: str) -> Layout:
        tests = root / "tests"
        # Files, folders and links of the package as they are; FIFOs, sockets and devices left
        # out, setuid bits dropped (``fstree.copy_tree``).
        fstree.copy_tree(tests_dir, tests, ignore=_IGNORED)
        helpers = root / "helpers"
        fstree.copy_tree(tests_dir, helpers, ignore=_helper_filter(module_name))
        for folder in (tests, helpers):
            _make_world_readable(folder)
        trusted_work = root / "trusted"
        (trusted_work / "tests").mkdir(parents=True)
        # While tests are listed the student's file is empty (reading it then gives ""); each
        # test's trusted process gets the real text before it starts (job.py, ``_start_student``).
        placeholder = trusted_work / f"{module_name}.py"
        placeholder.write_bytes(b"")
        placeholder.chmod(0o644)
        rel_paths = [p.relative_to(helpers).as_posix() for p in helpers.rglob("*.py")]
        return cls(root, tests, helpers, trusted_work, submission,
                   HelperRegistry.names_for(rel_paths), _fingerprint(tests))

    def student_workdir(self, index: int, source: Path) -> tuple[Path, Path]:
        """An empty ``/work`` for a student sandbox and a copy of the submission it restores
        ``/work`` from before each test (read-only there): nothing a test's process writes
        leaks on."""
        work = self.root / f"student-{index}"
        (work / "tests").mkdir(parents=True)  # where the helpers are mounted
        pristine = self.root / f"submission-{index}"
        # Any shape the submission (or a build in the sandbox) left: links stay links, FIFOs
        # and sockets are left out, depth costs no recursion.
        fstree.copy_tree(source, pristine, ignore=_IGNORED)
        _make_readable(pristine)
        return work, pristine


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _helper_filter(module_name: str) -> Any:
    def ignore(folder: str, names: list[str]) -> set[str]:
        hidden = set(_IGNORED(folder, names))
        for name in names:
            test_module = name.endswith(".py") and (
                name.startswith("test_") or name.endswith("_test.py")
            )
            if test_module or name in ("conftest.py", f"{module_name}.py"):
                hidden.add(name)
        return hidden

    return ignore


def _make_world_readable(folder: Path) -> None:
    """Read-only binds must be readable by the sandbox's own uid."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        path.chmod(0o755 if path.is_dir() else 0o644)


def _make_readable(folder: Path) -> None:
    """The sandbox's uid reads (and enters) every file and folder; modes are kept otherwise."""
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            mode = path.stat().st_mode
            path.chmod(mode | (0o555 if path.is_dir() else 0o444))


def source_memfd(path: Path) -> int:
    """A memfd holding the student module's bytes, for the trusted side to read as text.

    The file is the student's (a build step in the sandbox may have written it): read without
    following a symbolic link, only a regular file, capped; anything else gives an empty text.
    """
    data = b""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        fd = -1
    if fd >= 0:
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                data = os.read(fd, MAX_SOURCE)
        finally:
            os.close(fd)
    memfd = os.memfd_create("student-source", os.MFD_CLOEXEC)
    view = memoryview(data)
    while view:
        view = view[os.write(memfd, view):]
    os.lseek(memfd, 0, os.SEEK_SET)
    return memfd


__all__ = ["Layout", "source_memfd"]
