"""monkeypatch.setattr(solution, "TAX_RATE", ...): a module constant read at call time."""

import pytest
import solution


def test_tax_rate_is_read_when_called(monkeypatch):
    monkeypatch.setattr(solution, "TAX_RATE", 0.5)
    assert solution.with_tax(10) == pytest.approx(15)


def test_default_rate():
    assert solution.with_tax(10) == pytest.approx(12)
