"""Spectrum-based fault localization (Ochiai) from per-test line coverage. Django-free.

A line covered by many failing tests and few passing ones is suspicious:
``ochiai(line) = failed(line) / sqrt(total_failed * (failed(line) + passed(line)))``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def ochiai(spectra: Iterable[tuple[set[int], bool]]) -> dict[int, float]:
    """Score every covered line; ``spectra`` holds (covered lines, passed) per test."""
    spectra = list(spectra)
    total_failed = sum(1 for _, passed in spectra if not passed)
    if total_failed == 0:
        return {}
    failed_by: dict[int, int] = {}
    passed_by: dict[int, int] = {}
    for lines, passed in spectra:
        counter = passed_by if passed else failed_by
        for line in lines:
            counter[line] = counter.get(line, 0) + 1
    scores: dict[int, float] = {}
    for line in set(failed_by) | set(passed_by):
        ef = failed_by.get(line, 0)
        ep = passed_by.get(line, 0)
        scores[line] = ef / math.sqrt(total_failed * (ef + ep)) if ef else 0.0
    return scores


_STRUCTURAL = ("def ", "class ", "import ", "from ", "@", "else:", "try:", "finally:", "#",
               '"' * 3, "'" * 3)


def is_structural(text: str) -> bool:
    """Headers, imports and the like run whenever the module loads: every test covers them, so
    they tie with the real culprit while almost never being it."""
    stripped = text.strip()
    return not stripped or stripped.startswith(_STRUCTURAL)


def ranked(
    scores: dict[int, float], *, top: int = 5, source: str | None = None
) -> list[tuple[int, float]]:
    """The ``top`` most suspicious lines with a positive score, best first.

    Ties: with ``source``, statements before structural lines (see ``is_structural``), then the
    lower line.
    """
    lines = source.splitlines() if source is not None else []

    def structural(ln: int) -> bool:
        return 0 < ln <= len(lines) and is_structural(lines[ln - 1])

    best = sorted(
        ((ln, s) for ln, s in scores.items() if s > 0),
        key=lambda x: (-x[1], structural(x[0]), x[0]),
    )
    return best[:top]
