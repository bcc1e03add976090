"""Raise what a careless harness might treat as "the test is over" or "skip it"."""

import sys
import unittest


class Skipped(Exception):  # named like pytest's skip exception, module faked too
    pass


Skipped.__module__ = "_pytest.outcomes"


def add(a, b):
    if a == 2:
        raise SystemExit(0)
    if a == -2:
        raise KeyboardInterrupt
    if a == 4:
        raise unittest.SkipTest("nothing to see")
    if a == "a":
        raise Skipped("skip me")
    if a == [1]:
        sys.path.append("/opt/venv/lib/python3.11/site-packages")
        import pytest

        pytest.skip("skipping from the student side")
    raise GeneratorExit


def make_box(size):
    raise SystemExit(0)
