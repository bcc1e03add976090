"""`manage.py grade` table output never hands a student's control characters to the terminal;
`--json` stays exact."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "examples" / "packages" / "add_two_numbers"
pytestmark = pytest.mark.sandbox

# A program whose tracebacks, captured stdout and stderr carry a NUL, a clear-screen escape, a
# carriage return, a window-title OSC sequence with BEL, and a right-to-left override.
HOSTILE = b'''import sys


def add(a, b):
    print("noise\\x00\\x1b[2J\\r\\u202eevil")
    raise ValueError("bad\\x00value\\x1b[31m")


if __name__ == "__main__":
    sys.stderr.write("err\\x00\\x1b]0;pwned\\x07\\n")
    raise SystemExit("crash\\x00\\x1b[2J")
'''
# Anything a terminal acts on: C0 controls but newline (and tab), DEL, C1, bidi controls.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def grade(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    solution = tmp_path / "solution.py"
    solution.write_bytes(HOSTILE)
    argv = [sys.executable, "manage.py", "grade", str(PACKAGE), str(solution), *extra]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_table_output_shows_control_characters_from_student_output_as_escapes(tmp_path):
    proc = grade(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not CONTROL.findall(proc.stdout)
    assert "bad\\x00value\\x1b[31m" in proc.stdout  # the teacher still sees what was printed
    assert "err\\x00\\x1b]0;pwned\\x07" in proc.stdout
    assert "noise\\x00\\x1b[2J\\x0d\\u202eevil" in proc.stdout
    assert "score: 0 / 9" in proc.stdout


def test_json_output_keeps_the_student_output_exact(tmp_path):
    proc = grade(tmp_path, "--json")
    assert proc.returncode == 0, proc.stderr
    assert not CONTROL.findall(proc.stdout)  # JSON escapes them itself
    outputs = [t["output"] for t in json.loads(proc.stdout)["tests"]]
    assert any("ValueError: bad\x00value\x1b[31m" in o for o in outputs)
    assert any("err\x00\x1b]0;pwned\x07" in o for o in outputs)
