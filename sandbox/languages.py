"""Language support: how to build and how to run a student's program inside the sandbox.

Compilers read untrusted input too, so builds run inside the sandbox, with limits of their own
(``Language.build_limits``: what the compiler needs, no more). A build never runs the student's
code: Python's syntax check runs isolated (``-I -S``: no submission folder on ``sys.path``, so a
``traceback.py`` of the submission is never imported) and only compiles the file it reads as
data; ``javac`` runs with ``-proc:none`` (no annotation processor, not even one the submission
ships in ``META-INF/services``) and no processor path; gcc runs no code of its input. A failed
build uses no attempt, so what it may burn is kept small. Paths inside the sandbox are relative
to ``/work``, the workdir.

Java's memory limit is its heap: ``run_argv`` passes ``-Xmx<memory_mb>m`` and flags that keep
the JVM's other reservations small, and the run's ``RunSpec.needs`` (``JVM_NEEDS``) asks the
backend for ``JVM_EXTRA_AS_MB`` of address space and ``JVM_EXTRA_RSS_MB`` of memory beyond
``memory_mb`` (a JVM reserves far more than it uses). A JVM also needs ~15 threads of
``max_processes`` just to start. A backend learns what a runtime needs only from
``RunSpec.needs``, never from ``argv``: ``Language.run_spec`` and ``Language.build`` set it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sandbox.types import Backend, Limits, RunSpec, RuntimeNeeds, Verdict

BUILD_OUTPUT_CHARS = 20_000
BUILD_LIMITS = Limits(
    cpu_seconds=10,  # g++ on a template-heavy assignment: 1-3 s here
    wall_seconds=20,
    memory_mb=512,  # cc1plus on template-heavy code
    max_processes=16,  # gcc runs cc1, as, collect2 and ld one after the other
    output_bytes=200_000,  # the student sees BUILD_OUTPUT_CHARS of it
    file_size_mb=32,
    tmp_size_mb=64,  # -pipe: no temporary objects, only the executable
)
JAVAC_HEAP_MB = 256  # javac on one assignment's sources: 65 MB resident measured
JAVAC_LIMITS = BUILD_LIMITS.with_(memory_mb=JAVAC_HEAP_MB, max_processes=32)  # a dozen threads
# Python's check compiles one file and writes nothing.
PYTHON_CHECK_LIMITS = Limits(cpu_seconds=5, wall_seconds=10, memory_mb=256, max_processes=4,
                             output_bytes=64_000, file_size_mb=1, tmp_size_mb=1)
PROGRAM = "prog"  # the executable C and C++ builds produce in /work

JVM_EXTRA_AS_MB = 1024  # address space a JVM reserves beyond -Xmx (metaspace, code cache, stacks)
# Memory a JVM uses beyond its heap (-Xmx): metaspace (capped at 128 MB by JVM_FLAGS), code cache
# (32 MB), thread stacks, GC tables. Measured: 36 MB beyond a full 128 MB heap.
JVM_EXTRA_RSS_MB = 256
JVM_NEEDS = RuntimeNeeds(
    name="jvm",
    extra_address_space_mb=JVM_EXTRA_AS_MB,
    extra_memory_mb=JVM_EXTRA_RSS_MB,
    host_paths=("/etc/java-17-openjdk",),  # the JDK's configuration (security, logging)
    env=(("MALLOC_ARENA_MAX", "2"),),  # each glibc arena reserves 64 MB of address space
    trust_rss=False,  # the heap is bounded by -Xmx: only OutOfMemoryError means MEMORY
)

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

# Run with -I -S: sys.path is the standard library only, so these imports are never the
# submission's. The file is read as bytes and compiled, never executed or imported.
_PY_SYNTAX_CHECK = (
    "import sys, traceback\n"
    "name = sys.argv[1]\n"
    "try:\n"
    "    with open(name, 'rb') as f:\n"
    "        compile(f.read(), name, 'exec', dont_inherit=True)\n"
    "except (SyntaxError, ValueError) as exc:\n"
    "    sys.stderr.write(''.join(traceback.format_exception_only(type(exc), exc)))\n"
    "    sys.exit(1)\n"
    "except (RecursionError, MemoryError):\n"
    "    sys.exit(name + ': too deeply nested to compile')\n"
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
    aliases: tuple[str, ...] = ()  # other names an assignment may use ("py", "c++")
    needs: RuntimeNeeds = RuntimeNeeds()  # what its runtime (and compiler) asks of the backend

    def build(self, backend: Backend, workdir: Path, main_file: str, limits: Limits) -> BuildResult:
        """Build ``main_file`` (relative to ``workdir``) inside the sandbox.

        ``limits`` are the program's run limits; the build itself runs under
        ``build_limits(limits)`` (with the network always off). A build that fails, times out or
        runs out of memory gives ``ok=False`` and a message for the student; an infrastructure
        failure raises SandboxError.
        """
        argv = self.build_argv(_checked(main_file))
        if argv is None:
            return BuildResult(ok=True, output="")
        result = backend.run(RunSpec(argv=argv, workdir=workdir, limits=self.build_limits(limits),
                                     needs=self.needs))
        output = _trim((result.stderr + result.stdout).decode("utf-8", errors="replace"))
        if result.verdict == Verdict.PASSED:
            return BuildResult(ok=True, output=output)
        if result.verdict in (Verdict.TIMEOUT, Verdict.MEMORY, Verdict.OUTPUT_LIMIT):
            why = result.message.replace("Your program", "The compiler")
            output = _trim(f"The build was stopped: {why}.\n{output}")
        return BuildResult(ok=False, output=output.strip() or result.message)

    def submission_problem(self, submission: str) -> str:
        """Why ``submission`` cannot be this language's file name ("" when it can): checked
        when a teacher's package is read (``sandbox.package``)."""
        if not submission.endswith(self.extensions):
            return (f"submission {submission!r} must end with {' or '.join(self.extensions)} "
                    f"for {self.name}")
        return ""

    def build_argv(self, main_file: str) -> list[str] | None:
        """The compiler command, or None when nothing needs building."""
        return None

    def build_limits(self, limits: Limits) -> Limits:
        """What the build may use: the compiler's needs, never the student's code's (a build
        runs none of it). ``limits`` are the program's, for a language that wants them."""
        return BUILD_LIMITS

    def run_argv(self, main_file: str, limits: Limits | None = None) -> list[str]:
        """argv that runs the built program inside the sandbox (cwd ``/work``).

        ``limits`` only matters for Java, whose heap (-Xmx) follows ``limits.memory_mb``;
        without it the default ``Limits().memory_mb`` is used.
        """
        raise NotImplementedError

    def run_spec(
        self,
        main_file: str,
        limits: Limits,
        *,
        workdir: Path,
        args: Sequence[str] = (),
        stdin: bytes = b"",
        discard_workdir: bool = True,
    ) -> RunSpec:
        """The run of the built program: ``run_argv`` plus ``args``, under ``limits``, with
        what this language's runtime needs from the backend (``needs``)."""
        return RunSpec(
            argv=[*self.run_argv(main_file, limits), *args],
            workdir=workdir,
            limits=limits,
            stdin=stdin,
            discard_workdir=discard_workdir,
            needs=self.needs,
        )


class Python(Language):
    name = "python"
    extensions = (".py",)
    aliases = ("py", "python3")

    def build_argv(self, main_file: str) -> list[str] | None:
        # A syntax check only: nothing is written (no __pycache__ in /work), nothing imported
        # from the submission (-I: not the cwd nor a script folder on sys.path; -S: no site).
        return [sys.executable, "-I", "-S", "-c", _PY_SYNTAX_CHECK, main_file]

    def submission_problem(self, submission: str) -> str:
        problem = super().submission_problem(submission)
        if not problem and not PurePosixPath(submission).stem.isidentifier():
            problem = f"submission {submission!r} must be importable (a-z, 0-9, _)"
        return problem

    def build_limits(self, limits: Limits) -> Limits:
        return PYTHON_CHECK_LIMITS

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
    aliases = ("c++", "cxx")
    compiler = "g++"
    standard = "-std=c++17"


class Java(Language):
    name = "java"
    extensions = (".java",)
    needs = JVM_NEEDS  # javac is a JVM too

    def build_argv(self, main_file: str) -> list[str] | None:
        heap = [f"-J-Xmx{JAVAC_HEAP_MB}m"] + [f"-J{flag}" for flag in JVM_FLAGS]
        # -proc:none: no annotation processing at all, so no processor is looked up on the
        # class path (/work, the submission) and none runs; no -processorpath either.
        return ["javac", *heap, "-proc:none", "-encoding", "UTF-8", "-d", "/work", main_file]

    def submission_problem(self, submission: str) -> str:
        problem = super().submission_problem(submission)
        if not problem and not PurePosixPath(submission).stem.isidentifier():
            problem = f"submission {submission!r} must be a Java class name + .java"
        return problem

    def build_limits(self, limits: Limits) -> Limits:
        return JAVAC_LIMITS

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


# The one list of languages: package parsing, extensions and aliases all come from here.
LANGUAGES: dict[str, Language] = {lang.name: lang for lang in (Python(), C(), Cpp(), Java())}
_ALIASES = {alias: lang.name for lang in LANGUAGES.values() for alias in lang.aliases}


def get_language(name: str) -> Language:
    """The language called ``name`` (case-insensitive; "c++" and "py" are accepted too)."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    try:
        return LANGUAGES[key]
    except KeyError:
        supported = ", ".join(sorted(LANGUAGES))
        raise UnknownLanguageError(
            f"unknown language {name!r}: supported languages are {supported}"
        ) from None


def _checked(main_file: str) -> str:
    """``main_file`` must name a file inside /work: relative, no '..', no option-like name."""
    path = PurePosixPath(main_file)
    # "-x" would be an option, "@x" an argument file of javac (options read from /work/x).
    if path.is_absolute() or ".." in path.parts or not path.name or main_file[:1] in ("-", "@"):
        raise ValueError(f"main file {main_file!r} must be a relative path inside the workdir")
    return str(path)


def _trim(text: str) -> str:
    if len(text) <= BUILD_OUTPUT_CHARS:
        return text
    return text[:BUILD_OUTPUT_CHARS] + "\n[... compiler output trimmed ...]\n"


__all__ = [
    "BUILD_LIMITS", "JAVAC_LIMITS", "JVM_NEEDS", "LANGUAGES", "PYTHON_CHECK_LIMITS", "BuildResult",
    "Language", "UnknownLanguageError", "get_language",
]
