"""A shell pipeline around the student's script: refused at upload."""

import subprocess


def test_pipeline():
    command = "echo 2 3 | python3 solution.py"
    out = subprocess.run(command, shell=True, capture_output=True, text=True)
    assert out.stdout == "5\n"
