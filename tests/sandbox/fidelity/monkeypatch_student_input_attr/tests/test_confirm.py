"""monkeypatch.setattr(solution, "input", ..., raising=False): a name the module looks up."""

import solution


def test_yes_confirms(monkeypatch):
    monkeypatch.setattr(solution, "input", lambda prompt="": "yes", raising=False)
    assert solution.confirm() is True


def test_anything_else_does_not(monkeypatch):
    monkeypatch.setattr(solution, "input", lambda prompt="": "nope", raising=False)
    assert solution.confirm() is False
