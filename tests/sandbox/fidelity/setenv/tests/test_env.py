"""monkeypatch.setenv / delenv: the student reads os.environ."""

import solution


def test_greeting_from_the_environment(monkeypatch):
    monkeypatch.setenv("GREETING", "Howdy")
    assert solution.greeting("Al") == "Howdy, Al"


def test_default_without_the_variable(monkeypatch):
    monkeypatch.delenv("GREETING", raising=False)
    assert solution.greeting("Al") == "Hello, Al"
