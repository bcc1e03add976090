"""Every environment variable grader/settings.py reads is documented in the README's settings
table (the one headed ``| variable | default | meaning |``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READERS = {"env_bool", "env_int", "env_ip_list"}


def _settings_variables() -> set[str]:
    tree = ast.parse((ROOT / "grader" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_reader = isinstance(func, ast.Name) and func.id in READERS
        is_environ = isinstance(func, ast.Attribute) and (
            (func.attr == "get" and ast.unparse(func.value) == "os.environ")
            or (func.attr == "getenv" and ast.unparse(func.value) == "os")
        )
        first = node.args[0]
        if (is_reader or is_environ) and isinstance(first, ast.Constant):
            names.add(str(first.value))
    return names


def _readme_table_variables() -> set[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    start = lines.index("| variable | default | meaning |")
    names: set[str] = set()
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_the_settings_reader_finds_the_variables_it_should():
    found = _settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "SANDBOX_BACKEND", "FEEDBACK_ENGINE"} <= found
    assert {"GRADING_TIME_LIMIT", "DEBUG", "OPS_ALLOWED_IPS"} <= found  # env_int, env_bool, ip list


def test_every_variable_settings_reads_is_in_the_readme_settings_table():
    missing = _settings_variables() - _readme_table_variables()
    assert not missing, f"add to the README's settings table: {', '.join(sorted(missing))}"
