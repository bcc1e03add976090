"""Run a teacher's pytest file against a student module without trusting the student.

Public API: :class:`CaseResult` and :func:`run_pytest_file`. How it works and what it defends
against: ``sandbox/harness/runner.py``.
"""

from __future__ import annotations

from sandbox.harness.results import CaseResult
from sandbox.harness.runner import run_pytest_file

__all__ = ["CaseResult", "run_pytest_file"]
