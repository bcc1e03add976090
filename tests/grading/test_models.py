"""The database's verdict choices are the sandbox's verdicts, one for one."""

from __future__ import annotations

from grader.grading.models import TestResult
from sandbox.types import Verdict


def test_stored_verdicts_are_exactly_the_sandbox_verdicts():
    assert set(TestResult.Verdict.values) == {str(v) for v in Verdict}
