"""Python: the build is a syntax check run isolated (``-I -S``: no submission folder on
``sys.path``, so a ``traceback.py`` of the submission is never imported) that compiles the file it
reads as data; the run is the interpreter on the main file."""

from __future__ import annotations

import sys
from pathlib import PurePosixPath

from sandbox.languages.base import Language, checked
from sandbox.types import Limits

# Python's check compiles one file and writes nothing.
PYTHON_CHECK_LIMITS = Limits(cpu_seconds=5, wall_seconds=10, memory_mb=256, max_processes=4,
                             output_bytes=64_000, file_size_mb=1, tmp_size_mb=1)

# Run with -I -S: sys.path is the standard library only, so these imports are never the
# submission's. The file is read as bytes and compiled, never executed or imported.
# traceback (and what it imports: ~20 ms) only when there is an error to format.
_PY_SYNTAX_CHECK = (
    "import sys\n"
    "name = sys.argv[1]\n"
    "try:\n"
    "    with open(name, 'rb') as f:\n"
    "        compile(f.read(), name, 'exec', dont_inherit=True)\n"
    "except (SyntaxError, ValueError) as exc:\n"
    "    import traceback\n"
    "    sys.stderr.write(''.join(traceback.format_exception_only(type(exc), exc)))\n"
    "    sys.exit(1)\n"
    "except (RecursionError, MemoryError):\n"
    "    sys.exit(name + ': too deeply nested to compile')\n"
)


class Python(Language):
    name = "python"
    extensions = (".py",)
    aliases = ("py", "python3")
    build_writes = False  # the syntax check compiles in memory: no __pycache__, nothing else

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
        return [sys.executable, checked(main_file)]
