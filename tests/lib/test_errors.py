"""The typed service errors and the web's one mapping of them (grader.lib.web_errors)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from grader.lib.errors import (
    Conflict,
    Cooldown,
    Forbidden,
    InvalidInput,
    NoAttemptsLeft,
    NotFound,
    RateLimited,
    ServiceError,
    UploadRefused,
)
from grader.lib.web_errors import ServiceErrorMiddleware, flash


@pytest.mark.parametrize(("error", "status", "code"), [
    (InvalidInput("x"), 400, "invalid_input"),
    (UploadRefused("x"), 400, "upload_refused"),
    (Forbidden("x"), 403, "forbidden"),
    (NotFound("x"), 404, "not_found"),
    (Conflict("x"), 409, "conflict"),
    (NoAttemptsLeft("x"), 409, "no_attempts_left"),
    (RateLimited("x", retry_after=1), 429, "rate_limited"),
    (Cooldown("x", retry_after=1), 429, "cooldown"),
])
def test_each_error_has_its_status_and_a_stable_code(error, status, code):
    assert isinstance(error, ServiceError)
    assert (error.http_status, error.code, error.message) == (status, code, "x")


def test_a_code_can_be_narrowed_per_raise_without_changing_the_class_default():
    assert Conflict("x", code="already_resolved").code == "already_resolved"
    assert Conflict("y").code == "conflict"


def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one():
    assert Cooldown("wait", retry_after=12.1).retry_after == 13
    assert RateLimited("wait", retry_after=0).retry_after == 1
    assert Conflict("no").retry_after is None


def _request(path="/x/"):
    request = RequestFactory().get(path, HTTP_REFERER="http://testserver/assignments/1/")
    request.session = {}  # type: ignore[attr-defined]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


def test_the_middleware_renders_an_unhandled_service_error_as_its_status_page():
    middleware = ServiceErrorMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    request = _request()
    response = middleware.process_exception(
        request, Cooldown("Please wait 1 min 00 s before your next attempt.", retry_after=60)
    )
    assert response is not None and response.status_code == 429
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert "Please wait 1 min 00 s" in page and 'href="http://testserver/assignments/1/"' in page
    forbidden = middleware.process_exception(request, Forbidden("Not yours."))
    assert forbidden is not None and forbidden.status_code == 403
    assert not forbidden.has_header("Retry-After")


def test_the_middleware_leaves_other_exceptions_to_django():
    middleware = ServiceErrorMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    assert middleware.process_exception(_request(), ValueError("boom")) is None


def test_flash_puts_the_message_on_the_next_page():
    request = _request()
    flash(request, Conflict("This flag was already resolved."))
    assert [str(m) for m in get_messages(request)] == ["This flag was already resolved."]


def test_a_refused_lti_launch_is_a_typed_403_like_the_other_service_errors():
    from grader.lib.errors import Forbidden, ServiceError
    from grader.lms.lti.services import LtiLaunchError

    error = LtiLaunchError("This platform is not registered.")
    assert isinstance(error, Forbidden) and isinstance(error, ServiceError)
    assert (error.http_status, error.code, error.message) == (
        403, "lti_launch_refused", "This platform is not registered.")
