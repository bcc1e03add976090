"""The student's file run as a program on a file the test made, writing another one."""

import subprocess
import sys


def test_counts_lines_of_a_file(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("a\nb\nc\n")
    out = tmp_path / "result.txt"
    done = subprocess.run([sys.executable, "solution.py", str(data), str(out)],
                          capture_output=True, text=True, timeout=10)
    assert done.returncode == 0
    assert out.read_text().strip() == "3"
