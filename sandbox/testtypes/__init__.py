"""The test-type registry: one ``[[tests]]`` type per module of this package, one line each in
``TEST_TYPES``.

A type (``base.TestType``) holds its keys, its parser (TOML entry → ``TestSpec``), its runner
(``Context``, spec → outcomes) and what grading and feedback may do with it (``own_build``,
``traced``, ``io_diff``, ``trace``, ``rerun``). ``sandbox.package`` parses through it,
``sandbox.grade`` runs through it, ``sandbox.evidence`` and the feedback pipeline ask it; none of
them compares a type's name (``tests/sandbox/test_testtypes.py`` checks that).

Adding a type: write ``sandbox/testtypes/<name>.py`` with a ``TestType`` subclass (copy
``static.py``, the smallest), add its line below, and document its keys in the README.
"""

from __future__ import annotations

from sandbox.testtypes.base import Context, TestSpec, TestType
from sandbox.testtypes.gradescope import GradescopeTests
from sandbox.testtypes.io import IoTests
from sandbox.testtypes.pytest import PytestTests
from sandbox.testtypes.static import StaticTests

TEST_TYPES: dict[str, TestType] = {
    "pytest": PytestTests(),
    "io": IoTests(),
    "gradescope": GradescopeTests(),
    "static": StaticTests(),
}
assert all(name == kind.name for name, kind in TEST_TYPES.items())

# Result kinds feedback can trace and run again (also what the web app's queries filter on).
TRACED_TYPES = tuple(name for name, kind in TEST_TYPES.items() if kind.traced)


def io_diff(kind: str) -> bool:
    """Whether a result of ``kind`` is a program's stdout against an expected one (False for a
    kind no longer registered, as an old stored result may have)."""
    found = TEST_TYPES.get(kind)
    return found is not None and found.io_diff


__all__ = ["TEST_TYPES", "TRACED_TYPES", "Context", "TestSpec", "TestType", "io_diff"]
