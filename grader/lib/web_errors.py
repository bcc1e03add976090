"""Web pages: the one place that turns a ``grader.lib.errors.ServiceError`` into what a person
sees. A view that can show the refusal on its own page calls ``flash`` (a message, then its
usual redirect) or puts ``exc.message`` on a form; anything it lets through reaches
``ServiceErrorMiddleware``, which renders a status page with the error's status code (and
``Retry-After`` for a rate limit) instead of a server error.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from grader.lib.errors import ServiceError

TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    409: "Not possible now",
    429: "Please wait",
}


def flash(request: HttpRequest, exc: ServiceError) -> None:
    """The refusal as an error message on the next page."""
    messages.error(request, exc.message)


def with_retry_after(response: HttpResponse, exc: ServiceError) -> HttpResponse:
    """``response`` with the error's ``Retry-After`` (seconds), if it has one: pages, the API
    and the inbound webhook all answer a rate limit this way."""
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


def status_page(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    referer = request.headers.get("Referer", "")
    back = referer if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ) else ""
    response = render(
        request,
        "errors/service_error.html",
        {"error": exc, "title": TITLES.get(exc.http_status, "That did not work"), "back": back},
        status=exc.http_status,
    )
    return with_retry_after(response, exc)


class ServiceErrorMiddleware:
    """A ``ServiceError`` no view handled becomes its status page (never a 500)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ServiceError):
            return status_page(request, exception)
        return None
