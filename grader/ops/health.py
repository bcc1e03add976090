"""Health checks for /healthz: each returns (ok, detail) and never raises."""

from __future__ import annotations

import os

from django.conf import settings
from django.db import connection

from grader.lib.redis import broker_client
from sandbox.backends import backend_class


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, connection.vendor


def check_broker() -> tuple[bool, str]:
    url = settings.CELERY_BROKER_URL
    if url == "filesystem://":
        folder = str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        if os.path.isdir(folder) and os.access(folder, os.W_OK):
            return True, "filesystem"
        return False, f"queue folder {folder} missing or not writable"
    try:
        client = broker_client(timeout=2)
        if client is None:
            return False, f"broker {url.split(':', 1)[0]}:// is neither Redis nor filesystem"
        client.ping()
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, "redis"


def check_sandbox() -> tuple[bool, str]:
    """Cheap: is the backend's tool there? (Running code belongs to the worker, not a probe.)"""
    backend = settings.SANDBOX_BACKEND
    try:
        return True, backend_class(backend).probe()
    except Exception as exc:
        return False, f"{backend}: {type(exc).__name__}: {exc}"


CHECKS = {"database": check_database, "broker": check_broker, "sandbox": check_sandbox}


def run_checks() -> dict[str, dict[str, object]]:
    results = {}
    for name, check in CHECKS.items():
        ok, detail = check()
        results[name] = {"ok": ok, "detail": detail}
    return results
