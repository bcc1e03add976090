"""subprocess.run([sys.executable, "solution.py"], input=..., capture_output=True, text=True)."""

import subprocess
import sys


def run(text):
    return subprocess.run(
        [sys.executable, "solution.py"], input=text, capture_output=True, text=True, timeout=10
    )


def test_adds_two_numbers():
    result = run("2 3\n")
    assert result.returncode == 0
    assert result.stdout == "5\n"


def test_bad_input_exits_with_one():
    result = run("x\n")
    assert result.returncode == 1
    assert "invalid" in result.stderr
