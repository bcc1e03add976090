"""Who may read /healthz and /metrics: a client address in OPS_ALLOWED_IPS, or OPS_TOKEN.

Both endpoints tell an outsider more than they should (queue depths, error text of the
database and broker, how busy grading is before a deadline). The address is REMOTE_ADDR, the
peer the server sees; X-Forwarded-For is never read, since any client can send it. Behind a
reverse proxy on the same host every request comes from 127.0.0.1: there, set OPS_TOKEN and
leave loopback out of OPS_ALLOWED_IPS.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def allowed_networks() -> list[Network]:
    # settings.py already refused a malformed entry at start-up.
    return [ipaddress.ip_network(entry, strict=False) for entry in settings.OPS_ALLOWED_IPS]


def _client_address(request: HttpRequest) -> Address | None:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 from a dual-stack socket
    return address


def _presented_token(request: HttpRequest) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.GET.get("token", "")


def ops_request_allowed(request: HttpRequest) -> bool:
    token: str = settings.OPS_TOKEN
    presented = _presented_token(request)
    if token and presented and hmac.compare_digest(presented.encode(), token.encode()):
        return True
    address = _client_address(request)
    if address is None:
        return False
    return any(address in network for network in allowed_networks())


def ops_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """403 unless ``ops_request_allowed``."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not ops_request_allowed(request):
            return HttpResponse(
                "Forbidden: send OPS_TOKEN as 'Authorization: Bearer <token>' (or ?token=), "
                "or call from an address in OPS_ALLOWED_IPS.\n",
                status=403,
                content_type="text/plain; charset=utf-8",
            )
        return view(request, *args, **kwargs)

    return wrapped
