"""What one test produced, and how its text is cut for a student. A leaf module: grade.py, the
pytest harness and the gradescope runner all build on it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.types import Verdict

OUTPUT_SHOWN = 8_000  # characters of output a student sees per test


@dataclass
class TestOutcome:
    name: str
    score: float
    max_score: float
    verdict: Verdict
    visibility: str
    output: str
    wall_seconds: float = 0.0
    kind: str = "io"

    __test__ = False

    @property
    def passed(self) -> bool:
        return self.verdict == Verdict.PASSED


def trim(text: str, limit: int = OUTPUT_SHOWN) -> str:
    """At most ``limit`` characters, saying how many were cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 40] + f"\n… ({len(text) - limit + 40} more characters)"


def output_tail(data: bytes, limit: int = 2000) -> str:
    """The last ``limit`` characters of a program's output, decoded leniently."""
    return data.decode("utf-8", errors="replace").strip()[-limit:]
