"""HMAC-SHA256 signatures for webhooks in both directions (Stripe's scheme).

Header: ``X-Grader-Signature: t=<unix seconds>,v1=<hex hmac_sha256(secret, f"{t}.{body}")>``.
The timestamp is inside the signed text, so a captured request cannot be replayed outside the
tolerance window with a new timestamp; inside the window the idempotency key makes a replay
return the same submission instead of creating another.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Grader-Signature"


class SignatureError(Exception):
    """The request is not signed by the holder of the secret, or not recently."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def verify(
    header: str, *, secret: str, body: bytes, tolerance: int, now: float | None = None
) -> int:
    """Check ``header`` against ``body``; return its timestamp or raise SignatureError."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    if "t" not in parts or "v1" not in parts:
        raise SignatureError(f"{HEADER} must look like t=<unix seconds>,v1=<hex>")
    try:
        timestamp = int(parts["t"][0])
    except ValueError:
        raise SignatureError(f"{HEADER}: t is not a whole number of seconds") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(
            f"{HEADER}: timestamp is {int(current - timestamp)} s off; "
            f"requests older or newer than {tolerance} s are refused"
        )
    expected = signature(secret, timestamp, body)
    # Several v1 values let a sender sign with the old and the new secret while rotating.
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts["v1"]):
        raise SignatureError(f"{HEADER}: signature does not match the body")
    return timestamp
