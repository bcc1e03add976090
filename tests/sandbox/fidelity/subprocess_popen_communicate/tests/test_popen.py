"""subprocess.Popen with pipes, communicate() and the return code."""

import subprocess
import sys


def test_lines_come_back_reversed():
    with subprocess.Popen(
        [sys.executable, "solution.py"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        out, _ = proc.communicate("one\ntwo\n", timeout=10)
    assert proc.returncode == 0
    assert out == "two\none\n"


def test_bytes_mode():
    proc = subprocess.Popen(
        [sys.executable, "solution.py"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    out, err = proc.communicate(b"a\nb\nc\n")
    assert out.split() == [b"c", b"b", b"a"]
    assert err is None
