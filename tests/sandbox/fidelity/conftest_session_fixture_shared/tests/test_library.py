"""A session-scoped fixture of conftest.py: one student library that the tests borrow from."""


def test_borrow(library):
    assert library.borrow("Dune") is True
    assert library.available() == ["Emma"]


def test_borrow_again_is_refused(library):
    assert library.borrow("Dune") is False


def test_give_back(library):
    library.give_back("Dune")
    assert library.available() == ["Dune", "Emma"]
