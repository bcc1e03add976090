"""Pytest fidelity figures: how many idioms give the plain-pytest result through the harness.

    .venv/bin/python bench/fidelity.py [IDIOM ...]

For each idiom of ``tests/sandbox/fidelity/`` (``support.py`` says how it is run) and each of
its two solutions (correct, buggy): whether every test's pass/fail through the harness on the
real bubblewrap backend equals plain pytest's, the tests that differ, and the totals. Refused
idioms (named at upload) are listed apart. The test suite asserts the same thing
(``tests/sandbox/test_fidelity.py``); this prints the table.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import get_backend  # noqa: E402
from tests.sandbox.fidelity.support import KNOWN_GAPS, agreement, idioms, refused  # noqa: E402


def main() -> None:
    names = sys.argv[1:] or None
    started = time.monotonic()
    results = agreement(get_backend("bubblewrap"), names)
    rows: dict[str, dict[str, bool]] = {}
    for comparison in results:
        rows.setdefault(comparison.idiom, {})[comparison.variant] = comparison.agrees
    width = max(len(n) for n in rows)
    print(f"{'idiom':{width}}  correct  buggy")
    for name, row in rows.items():
        note = f"  (known gap: {KNOWN_GAPS[name]})" if name in KNOWN_GAPS else ""
        print(f"{name:{width}}  {'agrees' if row['correct'] else 'DIFFERS':7}  "
              f"{'agrees' if row['buggy'] else 'DIFFERS':7}{note}")
        for comparison in results:
            if comparison.idiom == name:
                for line in comparison.differences():
                    print(f"{'':{width}}    {comparison.variant}: {line}")
    both = sum(all(r.values()) for r in rows.values())
    runs = sum(c.agrees for c in results)
    print(f"\nidioms agreeing with plain pytest (both solutions): {both}/{len(rows)}")
    print(f"idiom x solution runs agreeing: {runs}/{len(results)}")
    refusals = [n for n in idioms() if refused(n)] if names is None else []
    if refusals:
        print(f"refused at upload, named with the reason: {', '.join(refusals)}")
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
