"""Runs untrusted code. Never imports Django: usable and testable on its own.

Public API: ``Limits``, ``RunSpec``, ``RunResult``, ``Verdict``, ``Fault``, ``get_backend``.
"""

from __future__ import annotations

from typing import Any

from sandbox.types import Backend, Fault, Limits, RunResult, RunSpec, SandboxError, Verdict

__all__ = [
    "Backend", "Fault", "Limits", "RunResult", "RunSpec", "SandboxError", "Verdict", "get_backend",
]


def get_backend(name: str = "bubblewrap", **options: Any) -> Backend:
    """Return a new backend called ``name`` (a name or alias of ``sandbox.backends.BACKENDS``:
    "bubblewrap", "bwrap", "docker"), built with ``options`` (its class's keyword arguments:
    the web app passes ``settings.SANDBOX_BACKEND_OPTIONS``); ValueError for an unknown name."""
    from sandbox.backends import backend_class

    backend: Backend = backend_class(name)(**options)
    return backend
