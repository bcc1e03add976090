"""subprocess.check_output with arguments, the path built from the test file; exit codes."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "solution.py"


def test_prints_the_arguments_in_upper_case():
    out = subprocess.check_output([sys.executable, str(SCRIPT), "ab", "cd"], text=True)
    assert out.split() == ["AB", "CD"]


def test_no_arguments_exits_with_two():
    with pytest.raises(subprocess.CalledProcessError) as exc:
        subprocess.check_output([sys.executable, str(SCRIPT)], stderr=subprocess.STDOUT)
    assert exc.value.returncode == 2
    assert b"usage" in exc.value.output
