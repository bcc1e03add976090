"""Student side: trace the lines of the student's module a test's process runs (feedback only).

Started by ``student.serve`` when the runner asks for evidence (``sandbox.harness.traces``); like
the rest of this process it is under the student's control, so the file it writes is treated
as untrusted data by the runner, capped and validated, and never counts towards a score. It
imports only the standard library.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import reprlib
import sys
from typing import Any

_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist = 60, 60, 8


class LineTracer:
    """Feedback evidence only (never a score): the lines of the student's module this process
    runs, and optionally the values of some names at one line. The student could forge the file
    it writes; the grader caps and validates it and uses it only to point at lines."""

    MAX_PROBES = 3

    def __init__(self, target: str, out: str, probe: dict[str, Any] | None) -> None:
        self.target, self.out = os.path.abspath(target), out
        self.lines: set[int] = set()
        self.probe_line = int(probe["line"]) if probe else 0
        self.probe_names = [str(n) for n in probe["names"]][:8] if probe else []
        self.probes: list[dict[str, str]] = []

    def _local(self, frame: Any, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines.add(frame.f_lineno)
            if frame.f_lineno == self.probe_line and len(self.probes) < self.MAX_PROBES:
                self.probes.append(self._values(frame))
        return self._local

    def _values(self, frame: Any) -> dict[str, str]:
        found: dict[str, str] = {}
        for name in self.probe_names:
            if name in frame.f_locals or name in frame.f_globals:
                value = frame.f_locals.get(name, frame.f_globals.get(name))
                try:
                    found[name] = _SHORT.repr(value)[:200]
                except Exception:
                    found[name] = "?"
        return found

    def _global(self, frame: Any, event: str, arg: Any) -> Any:
        if os.path.abspath(frame.f_code.co_filename) != self.target:
            return None
        self.lines.add(frame.f_lineno)
        return self._local

    def restart(self) -> None:
        """Forget what was traced so far: the test's own lines start here (after the tests it
        replays)."""
        self.lines.clear()
        self.probes.clear()

    def start(self) -> None:
        import threading  # only when tracing: the plain path starts without it

        sys.settrace(self._global)
        threading.settrace(self._global)

    def dump(self) -> None:
        sys.settrace(None)
        with contextlib.suppress(OSError, ValueError, TypeError):
            with io.open(self.out, "w") as fh:  # noqa: UP020 (not a builtins.open a test patched)
                json.dump({"lines": sorted(self.lines), "probes": self.probes}, fh)


__all__ = ["LineTracer"]
