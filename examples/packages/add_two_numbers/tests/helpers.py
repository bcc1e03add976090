"""A helper module next to the tests: files under tests/ are importable by them."""

BIG = 10**30
