"""Assignment packages: a folder (or a zip of one) with ``assignment.toml`` and a ``tests/`` folder.

This is how teachers author assignments and what the grade CLI reads. Every problem is reported
as a ``PackageError`` whose message names the key and says what was expected, so a teacher can fix
the file without reading code.
"""

from __future__ import annotations

import contextlib
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox.intake import MAX_SUBMISSION_BYTES, MAX_SUBMISSION_FILES, IntakeError, extract_zip
from sandbox.languages import LANGUAGES, UnknownLanguageError, get_language
from sandbox.testtypes import TEST_TYPES
from sandbox.testtypes.base import SOLUTION_DIR, PackageError, TestSpec
from sandbox.testtypes.base import expect as _expect
from sandbox.testtypes.base import number as _number
from sandbox.types import Limits

MANIFEST = "assignment.toml"
# SOLUTION_DIR (solution/): the teacher's reference solution, graded at upload
# (sandbox.reference), never shown to students (sandbox.testtypes.base).
# Derived from the one language registry (sandbox.languages.LANGUAGES), by canonical name.
LANGUAGE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    name: language.extensions for name, language in LANGUAGES.items()
}
# Upper bounds a teacher may set; above them one package could starve a worker.
LIMIT_BOUNDS: dict[str, tuple[float, float]] = {
    "cpu_seconds": (0.1, 60),
    "wall_seconds": (0.5, 120),
    "memory_mb": (16, 4096),
    "max_processes": (1, 512),
    "output_bytes": (1024, 16_000_000),
    "file_size_mb": (1, 1024),
    "tmp_size_mb": (1, 1024),
}
TOP_LEVEL_KEYS = {"title", "language", "submission", "description", "limits", "tests"}


@dataclass(frozen=True)
class AssignmentPackage:
    root: Path
    title: str
    language: str
    submission: str
    description: str
    limits: Limits
    tests: tuple[TestSpec, ...]

    @property
    def tests_dir(self) -> Path:
        return self.root / "tests"

    @property
    def solution_dir(self) -> Path | None:
        """The reference solution's folder, when the package ships one."""
        folder = self.root / SOLUTION_DIR
        return folder if folder.is_dir() else None

    @property
    def module_name(self) -> str:
        """The module student code is imported as (python): ``solution.py`` → ``solution``."""
        return PurePosixPath(self.submission).stem


def _parse_limits(raw: Any) -> Limits:
    _expect(isinstance(raw, dict), "[limits] must be a table")
    unknown = set(raw) - set(LIMIT_BOUNDS) - {"network"}
    _expect(
        not unknown, f"[limits] has unknown keys {sorted(unknown)}; known: {sorted(LIMIT_BOUNDS)}"
    )
    _expect(raw.get("network", False) is False, "[limits] network = true is not allowed")
    values: dict[str, Any] = {}
    for key, (low, high) in LIMIT_BOUNDS.items():
        if key not in raw:
            continue
        integer = key not in ("cpu_seconds", "wall_seconds")
        number = _number(raw[key], f"limits.{key}", integer=integer)
        _expect(low <= number <= high, f"limits.{key} must be between {low:g} and {high:g}")
        values[key] = int(number) if integer else number
    limits = Limits(**values)
    _expect(
        limits.cpu_seconds <= limits.wall_seconds,
        "limits.cpu_seconds must not exceed limits.wall_seconds",
    )
    return limits


def _parse_test(raw: Any, index: int, root: Path, language: str) -> TestSpec:
    """One [[tests]] entry, parsed by its type (sandbox.testtypes)."""
    where = f"tests[{index}]"
    _expect(isinstance(raw, dict), f"{where} must be a table ([[tests]])")
    kind = raw.get("type")
    _expect(kind in TEST_TYPES, f"{where}.type must be one of {list(TEST_TYPES)}, got {kind!r}")
    return TEST_TYPES[kind].parse(raw, index, root, language)


def _check_solution(root: Path, submission: str) -> None:
    """A shipped solution/ must be a submission a student could make."""
    folder = root / SOLUTION_DIR
    if not folder.exists() and not folder.is_symlink():
        return
    _expect(folder.is_dir() and not folder.is_symlink(), f"{SOLUTION_DIR} must be a folder")
    files = [p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    _expect(
        (folder / submission).is_file(),
        f"{SOLUTION_DIR}/ has no {submission}: the reference solution holds the files a "
        "student submits, named as they must be",
    )
    _expect(
        len(files) <= MAX_SUBMISSION_FILES
        and sum(p.stat().st_size for p in files) <= MAX_SUBMISSION_BYTES,
        f"{SOLUTION_DIR}/ is larger than a submission may be ({MAX_SUBMISSION_FILES} files, "
        f"{MAX_SUBMISSION_BYTES:,} bytes)",
    )


def load_package(root: Path) -> AssignmentPackage:
    """Parse and validate the package in folder ``root``."""
    root = Path(root).resolve()
    manifest = root / MANIFEST
    _expect(manifest.is_file(), f"{MANIFEST} not found in {root}")
    try:
        text = manifest.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackageError(f"{MANIFEST} is not valid UTF-8 (byte {exc.start})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackageError(f"{MANIFEST} is not valid TOML: {exc}") from exc
    unknown = set(data) - TOP_LEVEL_KEYS
    _expect(
        not unknown,
        f"{MANIFEST} has unknown keys {sorted(unknown)}; known: {sorted(TOP_LEVEL_KEYS)}",
    )
    title = data.get("title")
    _expect(isinstance(title, str) and title.strip() != "", "title must be a non-empty string")
    assert isinstance(title, str)
    raw_language = data.get("language")
    try:  # an alias ("py", "c++") is accepted as get_language accepts it, stored by its name
        lang = get_language(raw_language if isinstance(raw_language, str) else "")
    except UnknownLanguageError:
        lang = None
    _expect(
        lang is not None,
        f"unknown language {raw_language!r}: supported are {', '.join(LANGUAGES)}",
    )
    assert lang is not None
    language = lang.name
    submission: Any = data.get("submission")
    _expect(
        isinstance(submission, str), "submission must name the student's file, e.g. solution.py"
    )
    _expect(
        PurePosixPath(submission).name == submission and submission not in (".", ".."),
        f"submission must be a plain file name, got {submission!r}",
    )
    assert isinstance(submission, str)
    problem = lang.submission_problem(submission)
    _expect(not problem, problem)
    description = data.get("description", "")
    _expect(isinstance(description, str), "description must be a string")
    if not description and (root / "README.md").is_file():
        description = (root / "README.md").read_text(encoding="utf-8", errors="replace")
    limits = _parse_limits(data.get("limits", {}))
    raw_tests: Any = data.get("tests")
    _expect(
        isinstance(raw_tests, list) and len(raw_tests) > 0,
        "the package needs at least one [[tests]] entry",
    )
    tests = tuple(_parse_test(raw, i, root, language) for i, raw in enumerate(raw_tests))
    _check_solution(root, submission)
    return AssignmentPackage(root, title.strip(), language, submission, description, limits, tests)


@contextlib.contextmanager
def open_package(path: Path) -> Iterator[AssignmentPackage]:
    """Yield the package at ``path``: a folder, or a zip of one (extracted safely to a temp dir).

    A zip may hold ``assignment.toml`` at its root or inside one top-level folder.
    """
    path = Path(path)
    if path.is_dir():
        yield load_package(path)
        return
    _expect(path.is_file(), f"no such assignment package: {path}")
    with tempfile.TemporaryDirectory(prefix="package-") as tmp:
        try:
            with path.open("rb") as fh:
                extract_zip(fh, Path(tmp), max_files=2000, max_total_bytes=200_000_000)
        except IntakeError as exc:
            raise PackageError(f"{path.name}: {exc}") from exc
        yield load_package(find_package_root(Path(tmp)))


def find_package_root(folder: Path) -> Path:
    """The folder holding assignment.toml: ``folder`` itself or its single top-level subfolder."""
    if (folder / MANIFEST).is_file():
        return folder
    children = [c for c in folder.iterdir() if not c.name.startswith((".", "__MACOSX"))]
    if len(children) == 1 and children[0].is_dir() and (children[0] / MANIFEST).is_file():
        return children[0]
    raise PackageError(f"{MANIFEST} not found at the top of the zip (or in its single folder)")
