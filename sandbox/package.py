"""Assignment packages: a folder (or a zip of one) with ``assignment.toml`` and a ``tests/`` folder.

This is how teachers author assignments and what the grade CLI reads. Every problem is reported
as a ``PackageError`` whose message names the key and says what was expected, so a teacher can fix
the file without reading code.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox.intake import MAX_SUBMISSION_BYTES, MAX_SUBMISSION_FILES, IntakeError, extract_zip
from sandbox.languages import LANGUAGES, UnknownLanguageError, get_language
from sandbox.static_checks import RuleError, StaticRule, parse_rule
from sandbox.types import Limits

MANIFEST = "assignment.toml"
# The teacher's reference solution: graded at upload (sandbox.reference), never shown to
# students, never copied into a student's sandbox or the pytest helpers (those come from tests/).
SOLUTION_DIR = "solution"
# Derived from the one language registry (sandbox.languages.LANGUAGES), by canonical name.
LANGUAGE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    name: language.extensions for name, language in LANGUAGES.items()
}
VISIBILITIES = ("visible", "hidden", "after_due_date")
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
PYTEST_KEYS = {"type", "file", "points", "visibility", "name", "sanity"}
IO_KEYS = {"type", "name", "stdin", "expected_stdout", "points", "visibility", "args", "sanity"}
GRADESCOPE_KEYS = {"type", "name", "autograder", "points", "visibility", "setup"}
# + the rule's own keys
STATIC_KEYS = {"type", "name", "rule", "points", "visibility", "message", "sanity"}


class PackageError(ValueError):
    """The assignment package is malformed; the message says where and how to fix it."""


@dataclass(frozen=True)
class TestSpec:
    type: str  # a key of TEST_PARSERS: "pytest" | "io" | "gradescope" | "static"
    name: str
    points: float
    visibility: str
    file: str = ""  # pytest: path relative to the package root, under tests/
    stdin: str = ""
    expected_stdout: str = ""
    args: tuple[str, ...] = ()
    autograder: str = ""  # gradescope: folder relative to the package root
    run_setup: bool = True  # gradescope: run setup.sh before run_autograder
    scale_to: float | None = None  # gradescope: points set in the toml, else the results' own
    static: StaticRule | None = None  # static: the rule and its parameters
    # ``sanity = true``: a sanity check, shown to the student at once and in full whatever its
    # visibility and the assignment's release policy (grader.courses.release).
    sanity: bool = False

    __test__ = False  # not a pytest class, whatever its name says


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


def _expect(cond: bool, message: str) -> None:
    if not cond:
        raise PackageError(message)


def _number(value: Any, where: str, *, integer: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    _expect(ok and math.isfinite(value), f"{where} must be a number, got {value!r}")
    if integer:
        _expect(float(value).is_integer(), f"{where} must be a whole number, got {value!r}")
    return float(value)


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


def _safe_relative(path: str, where: str) -> PurePosixPath:
    pure = PurePosixPath(path)
    _expect(
        bool(path) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in path,
        f"{where} must be a relative path inside the package, got {path!r}",
    )
    return pure


def _points_and_visibility(raw: dict[str, Any], where: str) -> tuple[float, str]:
    points = _number(raw.get("points", 1), f"{where}.points")
    _expect(0 <= points <= 1000, f"{where}.points must be between 0 and 1000")
    visibility = raw.get("visibility", "visible")
    _expect(
        visibility in VISIBILITIES,
        f"{where}.visibility must be one of {list(VISIBILITIES)}, got {visibility!r}",
    )
    return points, visibility


def _sanity(raw: dict[str, Any], where: str) -> bool:
    """``sanity = true``: a sanity check, shown to the student at once and in full (name,
    result, points, output) whatever its visibility and the assignment's release policy."""
    sanity = raw.get("sanity", False)
    _expect(isinstance(sanity, bool), f"{where}.sanity must be true or false")
    return bool(sanity)


def _known_keys(raw: dict[str, Any], where: str, allowed: set[str]) -> None:
    unknown = set(raw) - allowed
    _expect(not unknown, f"{where} has unknown keys {sorted(unknown)}; known: {sorted(allowed)}")


def _parse_pytest(raw: dict[str, Any], index: int, root: Path, language: str) -> TestSpec:
    where = f"tests[{index}]"
    _known_keys(raw, where, PYTEST_KEYS)
    points, visibility = _points_and_visibility(raw, where)
    _expect(language == "python", f'{where}: pytest tests need language = "python"')
    file: Any = raw.get("file")
    _expect(isinstance(file, str), f"{where}.file must name a pytest file, e.g. tests/test_x.py")
    rel = _safe_relative(file, f"{where}.file")
    _expect(rel.parts[0] == "tests", f"{where}.file must be under tests/, got {file!r}")
    _expect((root / rel).is_file(), f"{where}.file: {file} does not exist in the package")
    return TestSpec(
        "pytest", str(raw.get("name", rel.stem)), points, visibility, file=str(rel),
        sanity=_sanity(raw, where),
    )


def _parse_io(raw: dict[str, Any], index: int, root: Path, language: str) -> TestSpec:
    where = f"tests[{index}]"
    _known_keys(raw, where, IO_KEYS)
    points, visibility = _points_and_visibility(raw, where)
    name = raw.get("name", f"io test {index + 1}")
    stdin = raw.get("stdin", "")
    expected: Any = raw.get("expected_stdout")
    args = raw.get("args", [])
    _expect(
        isinstance(name, str) and name.strip() != "", f"{where}.name must be a non-empty string"
    )
    _expect(isinstance(stdin, str), f"{where}.stdin must be a string")
    _expect(isinstance(expected, str), f"{where}.expected_stdout must be a string")
    _expect(
        isinstance(args, list) and all(isinstance(a, str) for a in args),
        f"{where}.args must be a list of strings",
    )
    return TestSpec(
        "io", name, points, visibility, stdin=stdin, expected_stdout=expected, args=tuple(args),
        sanity=_sanity(raw, where),
    )


def _parse_static(raw: dict[str, Any], index: int, root: Path, language: str) -> TestSpec:
    """A rule over the student's source (sandbox.static_checks); its own keys sit beside ours."""
    where = f"tests[{index}]"
    _expect(language == "python", f'{where}: static tests need language = "python"')
    points, visibility = _points_and_visibility(raw, where)
    message = raw.get("message", "")
    _expect(isinstance(message, str), f"{where}.message must be a string")
    try:
        rule = parse_rule(
            raw.get("rule"), {k: v for k, v in raw.items() if k not in STATIC_KEYS}, message
        )
    except RuleError as exc:
        raise PackageError(f"{where}: {exc}") from exc
    name = raw.get("name", rule.title())
    _expect(
        isinstance(name, str) and name.strip() != "", f"{where}.name must be a non-empty string"
    )
    return TestSpec(
        "static", name.strip(), points, visibility, static=rule,
        sanity=_sanity(raw, where),
    )


def _parse_test(raw: Any, index: int, root: Path, language: str) -> TestSpec:
    where = f"tests[{index}]"
    _expect(isinstance(raw, dict), f"{where} must be a table ([[tests]])")
    kind = raw.get("type")
    _expect(kind in TEST_TYPES, f"{where}.type must be one of {list(TEST_TYPES)}, got {kind!r}")
    return TEST_PARSERS[kind](raw, index, root, language)


def _parse_gradescope(raw: dict[str, Any], index: int, root: Path, language: str) -> TestSpec:
    where = f"tests[{index}]"
    unknown = set(raw) - GRADESCOPE_KEYS
    _expect(
        not unknown, f"{where} has unknown keys {sorted(unknown)}; known: {sorted(GRADESCOPE_KEYS)}"
    )
    folder: Any = raw.get("autograder")
    _expect(
        isinstance(folder, str),
        f"{where}.autograder must name the folder holding run_autograder, e.g. autograder/",
    )
    rel = _safe_relative(folder.rstrip("/"), f"{where}.autograder")
    _expect((root / rel).is_dir(), f"{where}.autograder: {folder} is not a folder in the package")
    # The autograder folder is copied into the student's sandbox: it must not hold the solution.
    _expect(
        SOLUTION_DIR not in rel.parts[:1] and not (root / rel / SOLUTION_DIR).exists(),
        f"{where}.autograder: {folder} holds or is the package's {SOLUTION_DIR}/ folder, which "
        "would be copied to every student; point it at a folder beside solution/",
    )
    _expect(
        (root / rel / "run_autograder").is_file(),
        f"{where}.autograder: {folder} has no run_autograder file",
    )
    scale_to = None
    if "points" in raw:
        scale_to = _number(raw["points"], f"{where}.points")
        _expect(0 < scale_to <= 1000, f"{where}.points must be above 0 and at most 1000")
    visibility = raw.get("visibility", "visible")
    _expect(
        visibility in VISIBILITIES,
        f"{where}.visibility must be one of {list(VISIBILITIES)}, got {visibility!r}",
    )
    name = raw.get("name", "autograder")
    _expect(
        isinstance(name, str) and name.strip() != "", f"{where}.name must be a non-empty string"
    )
    setup = raw.get("setup", True)
    _expect(isinstance(setup, bool), f"{where}.setup must be true or false")
    return TestSpec(
        "gradescope",
        name.strip(),
        scale_to or 0.0,
        visibility,
        autograder=str(rel),
        run_setup=setup,
        scale_to=scale_to,
    )


# The test-type registry: type name → parser. grade.py keeps the matching table of runners.
TEST_PARSERS: dict[str, Callable[[dict[str, Any], int, Path, str], TestSpec]] = {
    "pytest": _parse_pytest,
    "io": _parse_io,
    "gradescope": _parse_gradescope,
    "static": _parse_static,
}
TEST_TYPES = tuple(TEST_PARSERS)


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
