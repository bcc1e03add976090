"""From what the trusted process and the backend reported to one result per test.

A test's result is a ``sandbox.outcome.TestOutcome`` (``CaseResult`` is that type's name here):
the harness fills what it knows (pytest id, name, verdict, output, time, fault, traces) with no
points yet, and the pytest test type sets points and visibility from the package.

The trusted process's report is checked against a strict schema first: a malformed report is
the harness's fault (SANDBOX_ERROR), never a pass. A SANDBOX_ERROR always carries a ``Fault``:
the test gave no result for the student, so the submission could not be graded.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from sandbox.outcome import OUTPUT_SHOWN, TestOutcome, output_tail
from sandbox.outcome import trim as _trim
from sandbox.types import Fault, RunResult, Verdict

REPORT_KEYS = {"op", "index", "nodeid", "outcome", "reason", "output", "seconds"}
OUTCOMES = {"passed", "failed", "skipped"}
REASONS = {"passed", "skipped", "failed", "timeout", "lost", "protocol", "import", "compile",
           "collect", "crash", "memory", "value", "fixture", "refused"}


CaseResult = TestOutcome  # the harness's name for the one per-test result type


def case_result(nodeid: str, name: str, verdict: Verdict, output: str, seconds: float,
                fault: Fault | None = None) -> TestOutcome:
    """One test's result as the harness knows it: no points yet (the test type sets them)."""
    return TestOutcome(name=name, score=0.0, max_score=0.0, verdict=verdict, visibility="visible",
                       output=output, wall_seconds=seconds, kind="pytest", fault=fault,
                       nodeid=nodeid)


def short_name(nodeid: str) -> str:
    return nodeid.split("::", 1)[1] if "::" in nodeid else nodeid


def trim(text: str, limit: int = OUTPUT_SHOWN) -> str:
    return _trim(text.strip("\n"), limit)


def _valid(report: dict[str, Any]) -> bool:
    return (
        set(report) == REPORT_KEYS
        and report["outcome"] in OUTCOMES
        and report["reason"] in REASONS
        and isinstance(report["output"], str)
        and len(report["output"]) <= 64_000
        and type(report["seconds"]) in (int, float)
        and 0 <= report["seconds"] < 1e6
        and (report["outcome"] == "failed") == (report["reason"] not in ("passed", "skipped"))
    )


def case_from_report(nodeid: str, report: dict[str, Any], student: Future[RunResult],
                     wall: float) -> CaseResult:
    """The result of one test from the trusted report and its student run.

    A test skipped while running (``pytest.skip()`` in its body, an xfail that failed) counts
    as FAILED: tests skipped by their marks were already left out at collection, and the
    number of results must not depend on what the submission does.

    Waits for the student run only when the report says the student process was lost, to
    give the verdict the backend found (timeout, memory, crash, output limit).
    """
    name = short_name(nodeid)
    if not _valid(report) or report["nodeid"] != nodeid:
        return case_result(nodeid, name, Verdict.SANDBOX_ERROR,
                          "the test runner sent a malformed report", 0.0, Fault.HARNESS)
    outcome, reason, output = report["outcome"], report["reason"], report["output"]
    seconds = round(float(report["seconds"]), 4)
    if outcome == "skipped":
        return case_result(nodeid, name, Verdict.FAILED, trim(f"The test was skipped: {output}"),
                          seconds)
    if outcome == "passed":
        return case_result(nodeid, name, Verdict.PASSED, "", seconds)
    verdict, fault = Verdict.FAILED, None
    if reason == "timeout":
        verdict = Verdict.TIMEOUT
        output = f"The test did not finish within {wall:g} s." + (f"\n{output}" if output else "")
    elif reason == "lost":
        verdict, output = _lost(student.result())
        fault = Fault.HARNESS if verdict == Verdict.SANDBOX_ERROR else None
    elif reason == "import":
        verdict, output = Verdict.RUNTIME_ERROR, "Importing your module failed:\n" + output
    elif reason == "memory":
        verdict = Verdict.MEMORY
        output = "Your program ran out of memory (MemoryError).\n" + output
    elif reason == "compile":
        verdict = Verdict.COMPILE_ERROR
    elif reason == "value":
        verdict = Verdict.RUNTIME_ERROR
        output = "Your code produced a value that cannot be passed back to the tests: " + output
    elif reason == "protocol":
        verdict = Verdict.RUNTIME_ERROR
        output = "Your program interfered with the test harness: " + output
    elif reason == "crash":
        verdict, fault = Verdict.SANDBOX_ERROR, Fault.HARNESS
    elif reason == "fixture":  # see RunPlugin: it failed before the student's code was used
        verdict, fault = Verdict.SANDBOX_ERROR, Fault.PACKAGE
        output = "A fixture of the tests failed before the student's code was used:\n" + output
    elif reason == "refused":  # see agent/redirect.py: no submission changes this
        verdict, fault = Verdict.SANDBOX_ERROR, Fault.PACKAGE
        output = "The test did something the grader does not run for a test: " + output
    return case_result(nodeid, name, verdict, trim(output), seconds, fault)


def _lost(run: RunResult) -> tuple[Verdict, str]:
    """The student process ended in the middle of the test: say how, as the backend saw it."""
    if run.verdict in (Verdict.TIMEOUT, Verdict.MEMORY, Verdict.OUTPUT_LIMIT,
                       Verdict.RUNTIME_ERROR, Verdict.SANDBOX_ERROR):
        verdict, message = run.verdict, run.message
    else:
        code = run.exit_code if run.exit_code is not None else "?"
        verdict = Verdict.RUNTIME_ERROR
        message = f"Your program exited (code {code}) before the test finished."
    tail = output_tail(run.stderr)
    return verdict, message + (f"\n{tail}" if tail else "")


def case_when_trusted_died(nodeid: str, run: RunResult, detail: str) -> CaseResult:
    """The trusted process ended while running ``nodeid`` (it sent no result for it)."""
    verdict: Verdict
    fault = None
    if run.verdict in (Verdict.TIMEOUT, Verdict.MEMORY):
        verdict = run.verdict
        what = "time" if verdict == Verdict.TIMEOUT else "memory"
        output = f"The test ran out of {what}."
    else:
        verdict, fault = Verdict.SANDBOX_ERROR, Fault.HARNESS
        output = "The test runner stopped unexpectedly. " + (detail or run.message)
        tail = output_tail(run.stderr)
        output += f"\n{tail}" if tail else ""
    return case_result(nodeid, short_name(nodeid), verdict, trim(output), run.wall_seconds, fault)


__all__ = [
    "CaseResult", "case_from_report", "case_result", "case_when_trusted_died", "short_name", "trim",
]
