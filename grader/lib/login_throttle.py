"""Login throttling with django-axes: repeated wrong passwords lock a username from one address.

Axes counts failed logins per (username, client address) in the database and refuses further
tries for ``LOGIN_LOCKOUT_MINUTES`` after ``LOGIN_FAILURE_LIMIT`` failures. This module holds
the three pieces the settings point at.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' check, first in AUTHENTICATION_BACKENDS.

    Axes refuses to work without a request. Every login a person makes goes through a view
    that passes one (the login page, the admin's); ``authenticate()`` without one comes from
    our own code (the test client's ``login()``, a shell), which has nothing to throttle: it is
    passed on to the next backend unchecked instead of raising.
    """

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request: HttpRequest) -> str:
    """The peer the server sees. Never a forwarded-for header: a client could send any."""
    return str(request.META.get("REMOTE_ADDR", ""))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """429 with a sentence a person can act on, instead of the login form's generic error."""
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": settings.LOGIN_LOCKOUT_MINUTES, "failures": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
