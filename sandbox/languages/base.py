"""What every language is made of: the ``Language`` base class (build in the sandbox, run
argv, run spec), the build's result and limits, and the checks on the main file's name.

A leaf of ``sandbox.languages``: the language modules build on it; the registry is in
``sandbox/languages/__init__.py``.
"""

from __future__ import annotations

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
    # The build leaves files the runs need (a binary, classes): /work comes back from its
    # sandbox. False for a check that writes nothing: that copy (a Docker exec) is skipped.
    build_writes: bool = True

    def build(self, backend: Backend, workdir: Path, main_file: str, limits: Limits) -> BuildResult:
        """Build ``main_file`` (relative to ``workdir``) inside the sandbox.

        ``limits`` are the program's run limits; the build itself runs under
        ``build_limits(limits)`` (with the network always off). A build that fails, times out or
        runs out of memory gives ``ok=False`` and a message for the student; an infrastructure
        failure raises SandboxError.
        """
        argv = self.build_argv(checked(main_file))
        if argv is None:
            return BuildResult(ok=True, output="")
        result = backend.run(RunSpec(argv=argv, workdir=workdir, limits=self.build_limits(limits),
                                     needs=self.needs, discard_workdir=not self.build_writes))
        text = (result.stderr + result.stdout).decode("utf-8", errors="replace")
        output = trim_build_output(text)
        if result.verdict == Verdict.PASSED:
            return BuildResult(ok=True, output=output)
        if result.verdict in (Verdict.TIMEOUT, Verdict.MEMORY, Verdict.OUTPUT_LIMIT):
            why = result.message.replace("Your program", "The compiler")
            output = trim_build_output(f"The build was stopped: {why}.\n{output}")
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


def checked(main_file: str) -> str:
    """``main_file`` must name a file inside /work: relative, no '..', no option-like name."""
    path = PurePosixPath(main_file)
    # "-x" would be an option, "@x" an argument file of javac (options read from /work/x).
    if path.is_absolute() or ".." in path.parts or not path.name or main_file[:1] in ("-", "@"):
        raise ValueError(f"main file {main_file!r} must be a relative path inside the workdir")
    return str(path)


def trim_build_output(text: str) -> str:
    if len(text) <= BUILD_OUTPUT_CHARS:
        return text
    return text[:BUILD_OUTPUT_CHARS] + "\n[... compiler output trimmed ...]\n"
