"""What every test type is made of: the spec of one ``[[tests]]`` entry, the checks its parser
reports with, the context its runner gets, and the ``TestType`` base class.

A leaf of ``sandbox.testtypes``: the type modules build on it, ``sandbox.package`` parses with
it, and none of it imports a type module or the package parser (no import cycle).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from sandbox import fstree
from sandbox.outcome import TestOutcome, trim
from sandbox.static_checks import StaticRule
from sandbox.types import Backend, Fault, Limits, Verdict

if TYPE_CHECKING:
    from sandbox.package import AssignmentPackage

VISIBILITIES = ("visible", "hidden", "after_due_date")
# The teacher's reference solution: graded at upload (sandbox.reference), never shown to
# students, never copied into a student's sandbox or the pytest helpers (those come from tests/).
SOLUTION_DIR = "solution"


class PackageError(ValueError):
    """The assignment package is malformed; the message says where and how to fix it."""


@dataclass(frozen=True)
class TestSpec:
    """One ``[[tests]]`` entry as its type's parser read it. One dataclass for every type: each
    type fills the fields it has and leaves the others at their defaults; a new type's own
    values go in ``params``, so adding a type adds no field here."""

    type: str  # its key in sandbox.testtypes.TEST_TYPES
    name: str
    points: float
    visibility: str
    file: str = ""  # pytest: path relative to the package root, under tests/
    stdin: str = ""  # io
    expected_stdout: str = ""  # io
    args: tuple[str, ...] = ()  # io
    autograder: str = ""  # gradescope: folder relative to the package root
    run_setup: bool = True  # gradescope: run setup.sh before run_autograder
    scale_to: float | None = None  # gradescope: points set in the toml, else the results' own
    static: StaticRule | None = None  # static: the rule and its parameters
    # ``sanity = true``: a sanity check, shown to the student at once and in full whatever its
    # visibility and the assignment's release policy (grader.courses.release).
    sanity: bool = False
    # A type's own values that no other type has, as (key, value) pairs (a tuple keeps the spec
    # frozen and hashable); read one with ``param``.
    params: tuple[tuple[str, Any], ...] = ()

    __test__ = False  # not a pytest class, whatever its name says

    def param(self, key: str, default: Any = None) -> Any:
        """The value this spec's type stored under ``key`` in ``params``, else ``default``."""
        return dict(self.params).get(key, default)


# Checks a parser reports with: each raises PackageError naming the key and what was expected.

def expect(cond: bool, message: str) -> None:
    if not cond:
        raise PackageError(message)


def number(value: Any, where: str, *, integer: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    expect(ok and math.isfinite(value), f"{where} must be a number, got {value!r}")
    if integer:
        expect(float(value).is_integer(), f"{where} must be a whole number, got {value!r}")
    return float(value)


def safe_relative(path: str, where: str) -> PurePosixPath:
    pure = PurePosixPath(path)
    expect(
        bool(path) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in path,
        f"{where} must be a relative path inside the package, got {path!r}",
    )
    return pure


def entry_visibility(raw: dict[str, Any], where: str) -> str:
    value = raw.get("visibility", "visible")
    expect(
        value in VISIBILITIES,
        f"{where}.visibility must be one of {list(VISIBILITIES)}, got {value!r}",
    )
    return str(value)


def points_and_visibility(raw: dict[str, Any], where: str) -> tuple[float, str]:
    points = number(raw.get("points", 1), f"{where}.points")
    expect(0 <= points <= 1000, f"{where}.points must be between 0 and 1000")
    return points, entry_visibility(raw, where)


def sanity(raw: dict[str, Any], where: str) -> bool:
    """``sanity = true``: a sanity check, shown to the student at once and in full (name,
    result, points, output) whatever its visibility and the assignment's release policy."""
    value = raw.get("sanity", False)
    expect(isinstance(value, bool), f"{where}.sanity must be true or false")
    return bool(value)


def known_keys(raw: dict[str, Any], where: str, allowed: frozenset[str]) -> None:
    unknown = set(raw) - allowed
    expect(not unknown, f"{where} has unknown keys {sorted(unknown)}; known: {sorted(allowed)}")


def entry_name(raw: dict[str, Any], where: str, default: str) -> str:
    value = raw.get("name", default)
    expect(isinstance(value, str) and value.strip() != "",
           f"{where}.name must be a non-empty string")
    return str(value)


# What runners get.

@dataclass(frozen=True)
class Context:
    """What every test runner gets: the package, the student's files as uploaded, the backend,
    the built workspace (copy it before a run: ``fresh_copy``) and the grading temp folder.

    Feedback's traced runs get one too, whose ``built`` holds the files as uploaded (they trace
    Python submissions only, which have no build output)."""

    package: AssignmentPackage
    files: dict[str, bytes]
    backend: Backend
    built: Path
    root: Path
    metadata: dict[str, Any] | None = None  # the web app's facts for submission_metadata.json


def write_files(files: dict[str, bytes], folder: Path) -> Path:
    """The student's files as uploaded, in a fresh ``folder`` (names are intake-normalized)."""
    folder.mkdir()
    for rel, content in files.items():
        target = folder / PurePosixPath(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return folder


def fresh_copy(built: Path, parent: Path) -> Path:
    """Each run gets its own copy of the built workspace: no state leaks between tests.

    The build ran in the sandbox, so ``built`` may hold any shape: links are copied as links,
    FIFOs and sockets left out, any depth (``sandbox.fstree``)."""
    target = Path(tempfile.mkdtemp(dir=parent, prefix="run-"))
    fstree.copy_tree(built, target)
    return target


# Feedback evidence (sandbox.evidence): traced runs and re-runs of chosen tests.

@dataclass(frozen=True)
class TestKey:
    """A test as grading reported it: its kind (a test type's name), the spec it came from,
    and its name."""

    kind: str
    spec: int  # index into package.tests
    name: str

    __test__ = False


@dataclass
class Trace:
    covered: frozenset[int]
    probes: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Probe:
    """What a traced run records beyond the lines: the values of ``names`` the first times
    line ``line`` runs (0: none)."""

    line: int = 0
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Variants:
    """A re-run's job for one test type: variants of the submission (one folder each, never
    run in place: copy it), the limits every student run gets, and a deadline
    (``time.monotonic()``) past which runs not yet started are skipped (their result unknown)."""

    backend: Backend
    package: AssignmentPackage
    dirs: list[Path]
    root: Path  # a temp folder for run copies
    limits: Limits
    deadline: float | None = None
    parallel: int = 1  # sandbox runs at a time, for types that run one per test


class TestType:
    """One kind of ``[[tests]]`` entry: its keys, its parser, its runner, and what grading and
    feedback may do with it. One subclass per module of ``sandbox.testtypes``, one instance per
    line of ``TEST_TYPES``: code outside that package asks the type, never compares its name."""

    name: ClassVar[str] = ""  # the ``type = "..."`` of assignment.toml, and TestOutcome.kind
    keys: ClassVar[frozenset[str]] = frozenset()  # the keys its entry may have
    # It takes the student's files as uploaded and builds them itself: when every test of a
    # package is one, our build step does not run, and it never sees the build's output.
    own_build: ClassVar[bool] = False
    # Feedback can trace it (``trace``) and run it again on candidate repairs (``rerun``).
    traced: ClassVar[bool] = False
    # Its result compares a program's stdout with the spec's ``expected_stdout`` for its
    # ``stdin``: feedback quotes both (for a visible test) rather than a failure message.
    io_diff: ClassVar[bool] = False
    # Its files in tests/ run under the pytest harness: the package check at upload lints them
    # for idioms the harness refuses (``sandbox.harness.lint``).
    uses_harness: ClassVar[bool] = False

    __test__ = False

    def parse(self, raw: dict[str, Any], index: int, root: Path, language: str) -> TestSpec:
        """The spec of entry ``raw`` (``tests[index]``) of the package at ``root``, or
        ``PackageError``."""
        raise NotImplementedError

    def run(self, ctx: Context, spec: TestSpec) -> list[TestOutcome]:
        """Run one spec: one outcome per test it holds (a pytest file holds many)."""
        raise NotImplementedError

    def trace(self, ctx: Context, index: int, spec: TestSpec, probe: Probe,
              only: set[TestKey] | None) -> list[tuple[TestKey, Trace | None]]:
        """Traced runs of spec ``index`` (``traced`` types), in grading's order; ``only``
        restricts them to those tests."""
        return []

    def rerun(self, job: Variants, keys: list[TestKey]) -> dict[tuple[int, TestKey], bool]:
        """Whether each of ``keys`` (this type's) passes for each variant, keyed by (variant
        index, key); a pair left out is unknown (``traced`` types)."""
        return {}

    def outcome(self, spec: TestSpec, verdict: Verdict, output: str, *, wall_seconds: float,
                fault: Fault | None = None, name: str | None = None) -> TestOutcome:
        """The outcome of ``spec`` (or of its test ``name``) with ``verdict``: full points when
        it passed, else none."""
        return TestOutcome(
            name=spec.name if name is None else name,
            score=spec.points if verdict == Verdict.PASSED else 0.0,
            max_score=spec.points,
            verdict=verdict,
            visibility=spec.visibility,
            output=trim(output),
            wall_seconds=wall_seconds,
            kind=self.name,
            fault=fault,
        )
