"""HMAC-SHA256 signatures for webhooks in both directions (Stripe's scheme, plus the key).

Header: ``X-Grader-Signature: t=<unix seconds>,<scheme>=<hex hmac_sha256(secret, signed text)>``

- ``v2`` (inbound, an LMS sending a submission): the signed text is
  ``f"{t}.{idempotency_key}\\n"`` followed by the raw body. The Idempotency-Key is inside the
  signature, so a captured request replayed inside the window with a *new* key no longer
  matches; replayed with its own key it returns the first submission. The key ends at the first
  newline, which a header value cannot contain, so no other (key, body) pair signs the same text.
- ``v1`` (outbound, the grader POSTing results): the signed text is ``f"{t}."`` followed by the
  raw body; the delivery id the receiver deduplicates on is inside the body.

The timestamp is inside the signed text in both, so a captured request cannot be replayed
outside the tolerance window with a new timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Grader-Signature"


class SignatureError(Exception):
    """The request is not signed by the holder of the secret, or not recently."""


def _signed_text(timestamp: int, body: bytes, idempotency_key: str | None) -> bytes:
    if idempotency_key is None:
        return str(timestamp).encode() + b"." + body
    return f"{timestamp}.{idempotency_key}\n".encode() + body


def signature(secret: str, timestamp: int, body: bytes, idempotency_key: str | None = None) -> str:
    signed = _signed_text(timestamp, body, idempotency_key)
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_header(
    secret: str, body: bytes, *, timestamp: int | None = None, idempotency_key: str | None = None
) -> str:
    """``t=...,v1=...`` over the body, or ``t=...,v2=...`` over the key and body."""
    t = int(time.time()) if timestamp is None else timestamp
    scheme = "v1" if idempotency_key is None else "v2"
    return f"t={t},{scheme}={signature(secret, t, body, idempotency_key)}"


def verify(
    header: str,
    *,
    secret: str,
    body: bytes,
    tolerance: int,
    idempotency_key: str | None = None,
    now: float | None = None,
) -> int:
    """Check ``header`` against ``body`` (and, when given, ``idempotency_key``: then only a v2
    signature counts); return its timestamp or raise SignatureError."""
    scheme = "v1" if idempotency_key is None else "v2"
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    if "t" not in parts or scheme not in parts:
        if scheme == "v2" and "v1" in parts:
            raise SignatureError(
                f"{HEADER}: v1 signatures do not cover the Idempotency-Key and are refused here; "
                'send v2=<hex HMAC-SHA256(secret, "<t>.<Idempotency-Key>\\n<raw body>")>'
            )
        raise SignatureError(f"{HEADER} must look like t=<unix seconds>,{scheme}=<hex>")
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
    expected = signature(secret, timestamp, body, idempotency_key)
    # Several values let a sender sign with the old and the new secret while rotating.
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts[scheme]):
        what = "the Idempotency-Key and body" if idempotency_key is not None else "the body"
        raise SignatureError(f"{HEADER}: signature does not match {what}")
    return timestamp
