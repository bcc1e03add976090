import pytest
import solution


@pytest.fixture(scope="session")
def library():
    return solution.Library(["Dune", "Emma"])
