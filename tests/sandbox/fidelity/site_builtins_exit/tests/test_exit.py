"""Beginners end a program with exit() or quit() (builtins the site module adds)."""

import subprocess
import sys

import pytest
import solution


def test_stop_calls_exit_with_the_code():
    with pytest.raises(SystemExit) as info:
        solution.stop(3)
    assert info.value.code == 3


def test_the_script_ends_with_quit():
    done = subprocess.run([sys.executable, "solution.py"], input="4\n", capture_output=True,
                          text=True)
    assert done.stdout == "16\n"
    assert done.returncode == 0
