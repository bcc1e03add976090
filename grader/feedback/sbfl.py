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


def ranked(scores: dict[int, float], *, top: int = 5) -> list[tuple[int, float]]:
    """The ``top`` most suspicious lines with a positive score, best first (ties: lower line)."""
    best = sorted(((ln, s) for ln, s in scores.items() if s > 0), key=lambda x: (-x[1], x[0]))
    return best[:top]
