"""Language support: how to build and how to run a student's program inside the sandbox.

Compilers read untrusted input too, so builds run inside the sandbox, with limits of their own
(``BUILD_LIMITS``; a build is allowed more than the program it makes). Paths inside the sandbox
are relative to ``/work``, the workdir.

Java's memory limit is its heap: ``run_argv`` passes ``-Xmx<memory_mb>m`` and flags that keep
the JVM's other reservations small, and the backend allows a JVM ``JVM_EXTRA_AS_MB`` of address
space beyond ``memory_mb`` (a JVM reserves far more than it uses). A JVM also needs ~15 threads
of ``max_processes`` just to start.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sandbox.types import Backend, Limits, RunSpec, Verdict

BUILD_OUTPUT_CHARS = 20_000
BUILD_LIMITS = Limits(
    cpu_seconds=20,
    wall_seconds=30,
    memory_mb=1024,  # cc1plus on template-heavy code; the JVM heap for javac is set apart
    max_processes=64,  # gcc runs cc1, as, collect2 and ld; javac a dozen threads
    output_bytes=1_000_000,
    file_size_mb=64,
    tmp_size_mb=256,  # gcc's temporary objects
)
PROGRAM = "prog"  # the executable C and C++ builds produce in /work

# Flags that keep a JVM small and quick to start: C1 only, serial GC, no perf-data file, the
# class-data-sharing archive, and reservations small enough for the backend's address-space cap
# (``JVM_EXTRA_AS_MB`` above the heap).
JVM_FLAGS = (
    "-Xss8m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:CICompilerCount=1",
    "-XX:-UsePerfData",
    "-Xshare:auto",
    "-XX:CompressedClassSpaceSize=64m",
    "-XX:ReservedCodeCacheSize=32m",
    "-XX:MaxMetaspaceSize=128m",
    "-XX:+DisplayVMOutputToStderr",  # the VM's own messages (OutOfMemoryError...) stay off stdout
)

_PY_SYNTAX_CHECK = (
    "import sys, traceback\n"
    "name = sys.argv[1]\n"
    "try:\n"
    "    compile(open(name, 'rb').read(), name, 'exec', dont_inherit=True)\n"
    "except (SyntaxError, ValueError) as exc:\n"
    "    sys.stderr.write(''.join(traceback.format_exception_only(type(exc), exc)))\n"
    "    sys.exit(1)\n"
)


@dataclass
class BuildResult:
    """Whether the build succeeded, and the compiler's message (stderr then stdout, trimmed)."""

    ok: bool
    output: str


class UnknownLanguageError(ValueError):
    """The assignment names a language this grader does not support."""


class Language:
    """One supported language. Instances are stateless and shared."""

    name: str = ""
    extensions: tuple[str, ...] = ()

    def build(self, backend: Backend, workdir: Path, main_file: str, limits: Limits) -> BuildResult:
        """Build ``main_file`` (relative to ``workdir``) inside the sandbox.

        ``limits`` are the program's run limits; the build itself runs under ``BUILD_LIMITS``
        (with the network always off). A build that fails, times out or runs out of memory gives
        ``ok=False`` and a message for the student; an infrastructure failure raises SandboxError.
        """
        argv = self.build_argv(_checked(main_file))
        if argv is None:
            return BuildResult(ok=True, output="")
        result = backend.run(RunSpec(argv=argv, workdir=workdir, limits=BUILD_LIMITS))
        output = _trim((result.stderr + result.stdout).decode("utf-8", errors="replace"))
        if result.verdict == Verdict.PASSED:
            return BuildResult(ok=True, output=output)
        if result.verdict in (Verdict.TIMEOUT, Verdict.MEMORY, Verdict.OUTPUT_LIMIT):
            why = result.message.replace("Your program", "The compiler")
            output = _trim(f"The build was stopped: {why}.\n{output}")
        return BuildResult(ok=False, output=output.strip() or result.message)

    def build_argv(self, main_file: str) -> list[str] | None:
        """The compiler command, or None when nothing needs building."""
        return None

    def run_argv(self, main_file: str, limits: Limits | None = None) -> list[str]:
        """argv that runs the built program inside the sandbox (cwd ``/work``).

        ``limits`` only matters for Java, whose heap (-Xmx) follows ``limits.memory_mb``;
        without it the default ``Limits().memory_mb`` is used.
        """
        raise NotImplementedError


class Python(Language):
    name = "python"
    extensions = (".py",)

    def build_argv(self, main_file: str) -> list[str] | None:
        # A syntax check only: nothing is written (no __pycache__ in /work).
        return [sys.executable, "-c", _PY_SYNTAX_CHECK, main_file]

    def run_argv(self, main_file: str, limits: Limits | None = None) -> list[str]:
        # Not -I: it would drop the script's folder from sys.path and break imports of the
        # student's own modules. Not -S: exit() and quit() come from site.
        return [sys.executable, _checked(main_file)]


class C(Language):
    name = "c"
    extensions: tuple[str, ...] = (".c",)
    compiler = "gcc"
    standard = "-std=c17"

    def build_argv(self, main_file: str) -> list[str] | None:
        return [self.compiler, "-O2", self.standard, "-pipe", "-o", PROGRAM, main_file, "-lm"]

    def run_argv(self, main_file: str, limits: Limits | None = None) -> list[str]:
        return [f"/work/{PROGRAM}"]


class Cpp(C):
    name = "cpp"
    extensions = (".cpp", ".cc", ".cxx")
    compiler = "g++"
    standard = "-std=c++17"


class Java(Language):
    name = "java"
    extensions = (".java",)

    def build_argv(self, main_file: str) -> list[str] | None:
        heap = ["-J-Xmx512m"] + [f"-J{flag}" for flag in JVM_FLAGS]
        return ["javac", *heap, "-encoding", "UTF-8", "-d", "/work", main_file]

    def run_argv(self, main_file: str, limits: Limits | None = None) -> list[str]:
        memory = (limits or Limits()).memory_mb
        main_class = PurePosixPath(_checked(main_file)).stem
        return [
            "java",
            f"-Xmx{memory}m",
            *JVM_FLAGS,
            "-XX:+ExitOnOutOfMemoryError",
            "-cp",
            "/work",
            main_class,
        ]


_LANGUAGES: dict[str, Language] = {lang.name: lang for lang in (Python(), C(), Cpp(), Java())}
_ALIASES = {"py": "python", "python3": "python", "c++": "cpp", "cxx": "cpp"}


def get_language(name: str) -> Language:
    """The language called ``name`` (case-insensitive; "c++" and "py" are accepted too)."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    try:
        return _LANGUAGES[key]
    except KeyError:
        supported = ", ".join(sorted(_LANGUAGES))
        raise UnknownLanguageError(
            f"unknown language {name!r}: supported languages are {supported}"
        ) from None


def _checked(main_file: str) -> str:
    """``main_file`` must name a file inside /work: relative, no '..', no option-like name."""
    path = PurePosixPath(main_file)
    if path.is_absolute() or ".." in path.parts or not path.name or main_file.startswith("-"):
        raise ValueError(f"main file {main_file!r} must be a relative path inside the workdir")
    return str(path)


def _trim(text: str) -> str:
    if len(text) <= BUILD_OUTPUT_CHARS:
        return text
    return text[:BUILD_OUTPUT_CHARS] + "\n[... compiler output trimmed ...]\n"


__all__ = ["BUILD_LIMITS", "BuildResult", "Language", "UnknownLanguageError", "get_language"]
