"""What a traced student process tells feedback: the lines it ran and the values it probed.

:class:`Evidence` asks ``run_pytest_plan`` (``sandbox.harness.runner``) to trace each test's
student process; the file that process writes is the student's, so it is read here capped and
checked field by field (also for io tests). Never used for a score.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Evidence:
    """Trace student processes for feedback: the lines of the student module each test runs,
    and, with ``probe_line``, the values of ``probe_names`` the first times that line runs."""

    probe_line: int = 0
    probe_names: tuple[str, ...] = ()


MAX_EVIDENCE_BYTES = 256 * 1024


def read_evidence(path: Path, max_line: int) -> tuple[frozenset[int], list[dict[str, str]]] | None:
    """The evidence file a traced program wrote at ``path`` (io tests: ``sandbox.evidence``)."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_EVIDENCE_BYTES:
            return None
        return parse_evidence(path.read_text(encoding="utf-8"), max_line)
    except (OSError, ValueError):
        return None


def parse_evidence(text: str, max_line: int
                   ) -> tuple[frozenset[int], list[dict[str, str]]] | None:
    """What a traced student process wrote: untrusted, so capped and checked field by field."""
    if len(text) > MAX_EVIDENCE_BYTES:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("lines"), list):
        return None
    lines = frozenset(n for n in data["lines"]
                      if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= max_line)
    probes: list[dict[str, str]] = []
    for raw in data.get("probes", [])[:3] if isinstance(data.get("probes"), list) else []:
        if isinstance(raw, dict):
            probes.append({str(k)[:40]: str(v)[:200] for k, v in list(raw.items())[:8]
                           if isinstance(k, str) and isinstance(v, str)})
    return lines, probes


__all__ = ["MAX_EVIDENCE_BYTES", "Evidence", "parse_evidence", "read_evidence"]
