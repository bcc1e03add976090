"""Typed errors that services raise, so callers learn the cause without asking the database again.

Each error carries a user-readable ``message`` (shown as it is), a stable ``code`` (for API and
webhook clients) and the ``http_status`` it means. Services raise them; one place per interface
turns them into a response:

- web pages: ``grader.lib.web_errors`` (a flash message, a form error, or a status page),
- the REST API: the exception handler in ``grader.api.api`` (status, ``{"code", "detail"}``,
  ``Retry-After``),
- the inbound webhook: ``grader.lms.views.inbound_submission`` (status, ``{"code", "error"}``,
  ``Retry-After``).

This module imports nothing from Django, so Django-free code can raise these too.
"""

from __future__ import annotations

import math


class ServiceError(Exception):
    """Something the caller asked for was refused; ``message`` says why, to a person."""

    code: str = "error"
    http_status: int = 400
    retry_after: int | None = None  # seconds after which the same request may succeed

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(ServiceError):
    """The request itself is wrong: a missing or too long text, a choice that is not offered."""

    code = "invalid_input"
    http_status = 400


class UploadRefused(InvalidInput):
    """The upload cannot be a submission: wrong file name or type, not text, too big, a bad
    zip. ``message`` is the intake's sentence; nothing was stored and no attempt is used."""

    code = "upload_refused"


class NotFound(ServiceError):
    code = "not_found"
    http_status = 404


class Forbidden(ServiceError):
    """The caller is not allowed to do this (not in the course, not their submission)."""

    code = "forbidden"
    http_status = 403


class Conflict(ServiceError):
    """The request is valid but the current state refuses it (already resolved, already
    flagged, a key reused with another body)."""

    code = "conflict"
    http_status = 409


class NoAttemptsLeft(Conflict):
    code = "no_attempts_left"


class RateLimited(ServiceError):
    """Refused for now; the same request succeeds after ``retry_after`` seconds."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, math.ceil(retry_after))


class Cooldown(RateLimited):
    """The assignment's cooldown between two attempts has not passed yet."""

    code = "cooldown"
