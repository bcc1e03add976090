"""Student side: run the student's file as a program, for tests that do so.

``runpy.run_path("solution.py")`` and ``runpy.run_module("solution")`` run here, in the test's
student process (they run in-process under plain pytest too), with the test's ``sys.stdin``,
``sys.argv`` and patches mirrored (``ambient.py``). ``subprocess.run([sys.executable,
"solution.py", ...])`` starts a fresh interpreter here, inside the student sandbox, with the
test's stdin bytes and arguments. What comes back (globals, stdout, stderr, the exit status) is
the student program's output: the trusted side treats it as untrusted data. ``doctest.testmod``
of the student's module runs its examples here too.
"""

from __future__ import annotations

import sys
from typing import Any

MAX_STREAM = 1 << 20  # bytes of a script's stdout or stderr sent back (the rest is cut)
# Interpreter flags a test may give before the script; anything else is refused on the
# trusted side before a request is made.
SAFE_FLAGS = ("-u", "-B", "-E", "-s", "-S", "-O", "-OO", "-b", "-bb", "-q", "-I")


def run_code(kind: str, target: str, run_name: str | None, init_globals: dict[str, Any] | None,
             alter_sys: bool) -> dict[str, Any]:
    import runpy  # only for a test that asks, as subprocess below: ~5 ms of every sandbox's start

    if kind == "module":
        return runpy.run_module(target, init_globals, run_name, alter_sys=alter_sys)
    return runpy.run_path(target, init_globals, run_name)


DOCTEST_OPTIONS = ("name", "verbose", "report", "optionflags", "raise_on_error", "exclude_empty")


def run_doctests(module: Any, options: dict[str, Any]) -> list[int]:
    """``doctest.testmod`` of the student's module, here (its examples are the student's code);
    its report goes to this process's stdout, as under plain pytest. ``[failed, attempted]``."""
    import doctest  # only for a test that asks: it imports pdb, unittest, difflib

    chosen = {k: v for k, v in options.items() if k in DOCTEST_OPTIONS}
    found = doctest.testmod(module, **chosen)
    return [int(found.failed), int(found.attempted)]


def run_program(flags: list[str], target: list[str], args: list[str], stdin: bytes, merge: bool,
                env: dict[str, str] | None, timeout: float | None) -> dict[str, Any]:
    """Run ``python <flags> <target> <args>`` to completion; ``target`` is the script's path or
    ``["-m", module]``."""
    import subprocess

    try:
        done = subprocess.run(
            [sys.executable, *[f for f in flags if f in SAFE_FLAGS], *target, *args],
            input=stdin, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge else subprocess.PIPE, env=env, cwd="/work",
            timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return {"timeout": True, "out": (exc.stdout or b"")[:MAX_STREAM],
                "err": (exc.stderr or b"")[:MAX_STREAM], "rc": None}
    return {"timeout": False, "rc": done.returncode, "out": done.stdout[:MAX_STREAM],
            "err": (done.stderr or b"")[:MAX_STREAM]}


__all__ = ["DOCTEST_OPTIONS", "MAX_STREAM", "SAFE_FLAGS", "run_code", "run_doctests",
           "run_program"]
