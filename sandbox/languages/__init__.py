"""Language support: how to build and how to run a student's program inside the sandbox.

The registry: one module per language in this package, one line each in ``LANGUAGES``; package
parsing, extensions and aliases all come from it. Adding a language: a ``Language`` subclass
(``base.py``) in its own module (copy ``c.py``, the smallest) and its line below.

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

from sandbox.languages.base import (
    BUILD_LIMITS,
    BUILD_OUTPUT_CHARS,
    BuildResult,
    Language,
    UnknownLanguageError,
)
from sandbox.languages.c import PROGRAM, C, Cpp
from sandbox.languages.java import (
    JAVAC_HEAP_MB,
    JAVAC_LIMITS,
    JVM_EXTRA_AS_MB,
    JVM_EXTRA_RSS_MB,
    JVM_FLAGS,
    JVM_NEEDS,
    Java,
)
from sandbox.languages.python import PYTHON_CHECK_LIMITS, Python

LANGUAGES: dict[str, Language] = {
    "python": Python(),
    "c": C(),
    "cpp": Cpp(),
    "java": Java(),
}
assert all(name == lang.name for name, lang in LANGUAGES.items())
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


__all__ = [
    "BUILD_LIMITS", "BUILD_OUTPUT_CHARS", "JAVAC_HEAP_MB", "JAVAC_LIMITS", "JVM_EXTRA_AS_MB",
    "JVM_EXTRA_RSS_MB", "JVM_FLAGS", "JVM_NEEDS", "LANGUAGES", "PROGRAM", "PYTHON_CHECK_LIMITS",
    "BuildResult", "C", "Cpp", "Java", "Language", "Python", "UnknownLanguageError",
    "get_language",
]
