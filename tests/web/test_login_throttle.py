"""Login throttling (django-axes): wrong passwords lock a username from one address for a while,
with a message that says so; test-client logins keep working."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def attempt(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in_as(client) -> str | None:
    user = client.get("/", follow=True).context["user"]
    return user.username if user.is_authenticated else None


@pytest.fixture
def limits(settings):
    assert (settings.AXES_FAILURE_LIMIT, settings.LOGIN_LOCKOUT_MINUTES) == (5, 15)  # defaults
    return settings


def test_a_wrong_password_under_the_limit_shows_the_usual_form_error(client, world, limits):
    response = attempt(client, "alice", "wrong")
    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_five_wrong_passwords_lock_the_account_from_that_address_with_a_clear_message(
    client, world, limits
):
    for _ in range(4):
        assert attempt(client, "alice", "wrong").status_code == 200
    locked = attempt(client, "alice", "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed logins" in page and "locked for 15 minutes" in page
    # Now even the right password is refused from here, and nobody is logged in.
    again = attempt(client, "alice", "pw-alice")
    assert again.status_code == 429 and "Too many failed logins" in again.content.decode()
    assert logged_in_as(client) is None


def test_the_lock_holds_one_username_from_one_address_only(client, world, limits):
    for _ in range(5):
        attempt(client, "alice", "wrong")
    assert attempt(client, "alice", "pw-alice").status_code == 429
    # Alice from her own address is not locked out by a classmate guessing from another.
    assert attempt(client, "alice", "pw-alice", address="198.51.100.20").status_code == 302
    client.logout()
    # Bob, from the guesser's address, is not locked either.
    assert attempt(client, "bob", "pw-bob").status_code == 302
    assert logged_in_as(client) == "bob"


def test_the_lock_ends_after_the_cool_off(client, world, limits):
    from axes.models import AccessAttempt

    for _ in range(5):
        attempt(client, "alice", "wrong")
    assert attempt(client, "alice", "pw-alice").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert attempt(client, "alice", "pw-alice").status_code == 302
    assert logged_in_as(client) == "alice"


def test_a_successful_login_clears_the_failures_before_the_limit(client, world, limits):
    for _ in range(4):
        attempt(client, "alice", "wrong")
    assert attempt(client, "alice", "pw-alice").status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "alice", "wrong").status_code == 200  # counting from zero again


def test_the_test_clients_login_and_force_login_still_work(client, world, limits):
    assert client.login(username="alice", password="wrong") is False
    assert client.login(username="alice", password="pw-alice") is True
    assert logged_in_as(client) == "alice"
    client.logout()
    client.force_login(world.bob)
    assert logged_in_as(client) == "bob"
