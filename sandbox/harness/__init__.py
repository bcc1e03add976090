"""Run a teacher's pytest file against a student module without trusting the student.

Public API: :class:`CaseResult`, :func:`run_pytest_file`, :func:`run_pytest_plan` (chosen tests,
each against a submission folder of its own) and :class:`Evidence` (traced runs for feedback).
How it works and what it defends against: ``sandbox/harness/runner.py``.
"""

from __future__ import annotations

from sandbox.harness.results import CaseResult
from sandbox.harness.runner import Evidence, run_pytest_file, run_pytest_plan

__all__ = ["CaseResult", "Evidence", "run_pytest_file", "run_pytest_plan"]
