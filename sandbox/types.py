"""The sandbox contract: typed limits, argv-only run specs, results with a verdict.

Everything above the backends (languages, the test harness, the Django grader) speaks only
these types, so bubblewrap and Docker are interchangeable behind ``Backend``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class Verdict(enum.StrEnum):
    """What happened to one run or one test.

    SANDBOX_ERROR is the only verdict that is not the student's result: the sandbox, the test
    harness or the teacher's package failed, and ``Fault`` (on the test's outcome) says which.
    """

    PASSED = "passed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    RUNTIME_ERROR = "runtime_error"
    OUTPUT_LIMIT = "output_limit"
    COMPILE_ERROR = "compile_error"
    SANDBOX_ERROR = "sandbox_error"


class Fault(enum.StrEnum):
    """Whose failure it was when a test could not give the student a result.

    Either makes the whole submission "could not be graded" (``sandbox.outcome.Ungradable``):
    no score, and the student's attempt is not used.
    """

    PACKAGE = "package"  # the teacher's tests, fixtures, helpers, setup step or results file
    HARNESS = "harness"  # our test runner or sandbox


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed run; the defaults apply without [limits]."""

    cpu_seconds: float = 2.0
    wall_seconds: float = 10.0
    memory_mb: int = 256  # all the run's processes together, where the backend has cgroups
    max_processes: int = 64  # processes and threads
    output_bytes: int = 1_000_000  # stdout and stderr each; more is OUTPUT_LIMIT
    file_size_mb: int = 16  # largest file the program may write (RLIMIT_FSIZE)
    # What the run may write: bubblewrap caps /work's growth, /tmp and /dev/shm together (one
    # tmpfs), Docker each of the three tmpfs.
    tmp_size_mb: int = 64
    network: bool = False

    def with_(self, **changes: object) -> Limits:
        from dataclasses import replace

        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RuntimeNeeds:
    """What a language's runtime needs from the backend beyond the run's ``Limits``.

    The language says so (``sandbox.languages``); a backend never guesses it from ``argv``.
    The default is a native program or an interpreter that needs nothing extra.
    """

    name: str = ""  # for messages and logs ("jvm")
    # Address space beyond ``memory_mb`` (RLIMIT_AS): a JVM reserves far more than it uses.
    extra_address_space_mb: int = 0
    # Memory beyond ``memory_mb`` for the run's memory cgroup or container: a JVM's metaspace,
    # code cache and thread stacks on top of its heap (-Xmx = memory_mb).
    extra_memory_mb: int = 0
    host_paths: tuple[str, ...] = ()  # read-only host paths the runtime reads (its /etc folder)
    env: tuple[tuple[str, str], ...] = ()  # environment the runtime wants; the spec's env wins
    # False where the runtime bounds its own memory (a JVM's heap is -Xmx): its RSS near the
    # limit then says nothing, and only its own out-of-memory message means MEMORY.
    trust_rss: bool = True


@dataclass(frozen=True)
class RunSpec:
    """One command to run. ``argv`` is a list, never a shell string.

    ``workdir`` is a host folder mounted read-write at ``/work`` inside the sandbox (the
    program's cwd unless ``cwd`` says otherwise). ``ro_binds`` / ``rw_binds`` map host paths to
    sandbox paths. ``pass_fds`` are host file descriptors the program inherits (same numbers).
    """

    argv: list[str]
    workdir: Path
    limits: Limits = field(default_factory=Limits)
    stdin: bytes = b""
    env: dict[str, str] = field(default_factory=dict)
    cwd: str = "/work"
    ro_binds: dict[str, str] = field(default_factory=dict)
    rw_binds: dict[str, str] = field(default_factory=dict)
    pass_fds: tuple[int, ...] = ()
    # Nothing the run leaves in /work is needed after it (the caller throws the workdir away,
    # or the run writes nothing, as Python's syntax check): a backend that must copy files back
    # out of the sandbox may skip that. The host's workdir keeps what it had either way.
    discard_workdir: bool = False
    needs: RuntimeNeeds = RuntimeNeeds()


@dataclass
class RunResult:
    """How one run ended. ``verdict`` is PASSED when the program exited 0 within its limits."""

    verdict: Verdict
    exit_code: int | None
    signal: int | None
    stdout: bytes
    stderr: bytes
    wall_seconds: float
    cpu_seconds: float
    max_rss_kb: int
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    message: str = ""  # human sentence for the student ("Your program used more than 256 MB")

    @property
    def ok(self) -> bool:
        return self.verdict == Verdict.PASSED


class SandboxError(Exception):
    """The sandbox itself failed (not the student's program): retry-worthy infrastructure error."""


class Backend(Protocol):
    """Runs specs. A backend may also have ``session()``, a context manager whose ``Backend``
    runs the specs of one submission (``sandbox.backends.session``): Docker keeps one container
    per submission there; without it every run stands alone."""

    name: str

    def run(self, spec: RunSpec) -> RunResult:
        """Run ``spec`` to completion, always cleaning up every process it started."""
        ...
