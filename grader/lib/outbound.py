"""POST to a URL someone else chose (a course's webhook callback), without becoming a proxy into
our own network.

- Only http and https; no proxy from the environment; redirects are never followed (a 3xx is
  the answer, so a public URL cannot bounce the request to an internal one).
- The host is resolved when the connection is made, every address it resolves to is checked,
  and the socket connects to a checked address: there is no second lookup a DNS-rebinding
  server could answer differently. Loopback, private, link-local, shared (CGNAT), multicast,
  reserved and unspecified addresses are refused (``ipaddress``'s ``is_global``), also when
  hidden in an IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address. ``allow_private`` lifts this
  for deployments whose LMS is on the internal network (and for tests with a local receiver).
- The caller gets the status code and a short description of what went wrong, never the
  receiver's response body: staff read it, and a hostile receiver writes it.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(OSError):
    """The URL's host is not a public address (or not http/https); nothing was sent."""


@dataclass(frozen=True)
class PostResult:
    status_code: int | None  # None: no HTTP answer (refused, unreachable, timed out)
    error: str  # empty on 2xx; never the receiver's body
    retryable: bool  # False when trying again cannot help (a refused target, a 4xx, a 3xx)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal_reason(address: Address) -> str | None:
    """Why ``address`` is not a public unicast address, or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return refusal_reason(inner)
    for kind in ("loopback", "private", "link_local", "multicast", "reserved", "unspecified"):
        if getattr(address, f"is_{kind}"):
            return f"a {kind.replace('_', '-')} address"
    if not address.is_global:
        return "not a public address"
    return None


def _checked_connection(
    allow_private: bool,
    address: tuple[str, int],
    timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
    source_address: tuple[str, int] | None = None,
) -> socket.socket:
    """``socket.create_connection`` that refuses non-public addresses first (all of them: a host
    with one private address among public ones is refused, whatever order DNS gives)."""
    host, port = address
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(f"cannot resolve {host}: {exc.strerror}") from None
    if not allow_private:
        for *_, sockaddr in infos:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
            reason = refusal_reason(ip)
            if reason:
                raise TargetRefused(
                    f"{host} resolves to {ip}, {reason}; webhooks go only to public addresses "
                    "(an operator can allow others with WEBHOOK_ALLOW_PRIVATE_TARGETS=true)"
                )
    error: OSError | None = None
    for family, type_, proto, _, sockaddr in infos:
        sock = socket.socket(family, type_, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)  # the checked address itself, not the name again
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"{host} has no address")


def _opener(allow_private: bool) -> urllib.request.OpenerDirector:
    def connect(*args: Any, **kwargs: Any) -> socket.socket:
        return _checked_connection(allow_private, *args, **kwargs)

    class CheckedHTTP(http.client.HTTPConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = connect

    class CheckedHTTPS(http.client.HTTPSConnection):
        # TLS wraps the checked socket with the URL's host name: SNI and certificate checks
        # are as usual.
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = connect

    class HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(CheckedHTTP, req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(CheckedHTTPS, req, context=self._context)  # type: ignore[attr-defined]

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # urllib then raises HTTPError with the 3xx

    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), HTTPHandler(), HTTPSHandler(), NoRedirects()
    )


def _phrase(code: int) -> str:
    """The standard reason phrase (not the receiver's own, which it may fill with anything)."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "unknown status"


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool
) -> PostResult:
    """POST ``body`` once. Never raises for network trouble or a refused target."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return PostResult(None, f"refused: {url!r} is not an http(s) URL", retryable=False)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) checked above
    try:
        with _opener(allow_private).open(request, timeout=timeout) as response:
            return PostResult(response.status, "", retryable=False)
    except urllib.error.HTTPError as exc:
        exc.close()  # the body stays unread: what staff see is the status code
        code = exc.code
        if 300 <= code < 400:
            return PostResult(code, "redirects are not followed", retryable=False)
        return PostResult(code, _phrase(code), retryable=code >= 500 or code in (408, 429))
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TargetRefused):
            return PostResult(None, f"refused: {reason}", retryable=False)
        return PostResult(None, f"{type(reason).__name__}: {reason}"[:2000], retryable=True)
