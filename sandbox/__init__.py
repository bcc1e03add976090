"""Runs untrusted code. Never imports Django: usable and testable on its own.

Public API: ``Limits``, ``RunSpec``, ``RunResult``, ``Verdict``, ``Fault``, ``get_backend``.
"""

from __future__ import annotations

from sandbox.types import Backend, Fault, Limits, RunResult, RunSpec, SandboxError, Verdict

__all__ = [
    "Backend", "Fault", "Limits", "RunResult", "RunSpec", "SandboxError", "Verdict", "get_backend",
]


def get_backend(name: str = "bubblewrap") -> Backend:
    """Return the backend called ``name`` ("bubblewrap" or "docker")."""
    if name in ("bubblewrap", "bwrap"):
        from sandbox.backends.bwrap import BubblewrapBackend

        return BubblewrapBackend()
    if name == "docker":
        from sandbox.backends.docker import DockerBackend

        return DockerBackend()
    raise ValueError(f"unknown sandbox backend {name!r}: expected 'bubblewrap' or 'docker'")
