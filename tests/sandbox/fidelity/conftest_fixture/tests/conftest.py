import pytest
import solution


@pytest.fixture
def account():
    return solution.Account("ann", 100)
