"""[sys.executable, "-m", "solution", ...] and the exit code of a failing run."""

import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "solution", *args], capture_output=True, text=True)


def test_factorial_of_five():
    assert run("5").stdout == "120\n"


def test_factorial_of_zero():
    assert run("0").stdout == "1\n"


def test_negative_fails():
    result = run("-1")
    assert result.returncode != 0
