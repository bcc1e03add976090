"""Redis, where the deployment has it: today the Celery broker (``CELERY_BROKER_URL``).

Probes and metrics read it directly (queue lengths, a ping); short socket timeouts so a
Redis that does not answer makes a health check fail fast instead of hanging the request.
"""

from __future__ import annotations

import redis
from django.conf import settings

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def broker_client(*, timeout: float) -> redis.Redis | None:
    """A client for the broker's Redis, or None when the broker is not Redis (the
    filesystem broker of a development install). Connects lazily, on the first command."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(REDIS_SCHEMES):
        return None
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
