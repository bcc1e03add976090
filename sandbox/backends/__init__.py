"""The sandbox backends: one registry, each backend imported only when it is asked for.

``BACKENDS`` maps a backend's name to ``"module:Class"``; ``sandbox.get_backend``, the
``SANDBOX_BACKEND`` setting and the management commands' ``--backend`` choices all read it, so a
new backend is one line here (and a class implementing ``sandbox.types.Backend``, with a
``probe()`` classmethod for the health check). Importing a
backend's module can be costly or fail (Docker needs the ``docker`` client), hence the strings.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.types import Backend

BACKENDS: dict[str, str] = {
    "bubblewrap": "sandbox.backends.bwrap:BubblewrapBackend",
    "docker": "sandbox.backends.docker:DockerBackend",
}
ALIASES: dict[str, str] = {"bwrap": "bubblewrap"}


def backend_name(name: str) -> str:
    """The registered name ``name`` stands for (an alias resolved); ValueError for none."""
    key = ALIASES.get(name, name)
    if key not in BACKENDS:
        expected = " or ".join(repr(known) for known in BACKENDS)
        raise ValueError(f"unknown sandbox backend {name!r}: expected {expected}")
    return key


def backend_class(name: str) -> Any:
    """The class of the backend called ``name`` (imported now)."""
    module, _, attr = BACKENDS[backend_name(name)].partition(":")
    return getattr(importlib.import_module(module), attr)


@contextmanager
def session(backend: Backend) -> Iterator[Backend]:
    """The backend for the runs of one submission (``sandbox.grade.grade`` opens one per
    submission): ``backend.session()`` where the backend has one (Docker: the submission's own
    containers, reset between its runs and removed at the end), else ``backend`` itself
    (bubblewrap: every run gets a fresh sandbox anyway)."""
    opener = getattr(backend, "session", None)
    if opener is None:
        yield backend
        return
    with opener() as scoped:
        yield scoped


__all__ = ["ALIASES", "BACKENDS", "backend_class", "backend_name", "session"]
