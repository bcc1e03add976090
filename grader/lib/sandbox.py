"""The sandbox backend this deployment runs untrusted code with (``settings.SANDBOX_BACKEND``).

One instance per process: a backend may hold warm state (the Docker backend's container pools),
so grading, the reference check and feedback's trace collection share it.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings

from sandbox import Backend, get_backend


@cache
def sandbox_backend() -> Backend:
    return get_backend(settings.SANDBOX_BACKEND)
