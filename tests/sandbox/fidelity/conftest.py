"""Nothing in here is a test of this repository: each idiom's tests run under plain pytest and
through the harness (``tests/sandbox/test_fidelity.py``)."""

collect_ignore_glob = ["*"]
