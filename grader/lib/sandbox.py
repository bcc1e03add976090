"""The sandbox backend this deployment runs untrusted code with (``settings.SANDBOX_BACKEND``).

One instance per process: a backend may hold warm state (the Docker backend's container pools),
so grading, the reference check and feedback's trace collection share it.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

from sandbox import Backend, get_backend
from sandbox.backends import backend_name
from sandbox.harness import warm


def backend_options(name: str) -> dict[str, object]:
    """The settings' keyword arguments for backend ``name`` (an alias resolved)."""
    return dict(settings.SANDBOX_BACKEND_OPTIONS.get(backend_name(name), {}))


@cache
def sandbox_backend() -> Backend:
    name = settings.SANDBOX_BACKEND
    warm.configure(enabled=settings.SANDBOX_WARM_TRUSTED)
    return get_backend(name, **backend_options(name))
