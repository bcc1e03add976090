"""A NUL byte (or a lone surrogate) in a program's output is stored, never failed_infra.

Postgres text and jsonb columns refuse NUL, SQLite does not: these tests matter on Postgres,
which the suite's first pass uses (DATABASE_URL), and pass on SQLite too.
"""

from __future__ import annotations

import pytest

from grader.grading.services import submission_grade, submission_store_report
from grader.lib.text import REPLACEMENT
from grader.lms.selectors import submission_results_payload
from grader.submissions.models import Submission
from grader.submissions.services import submission_create
from sandbox.grade import GradeReport
from sandbox.outcome import TestOutcome
from sandbox.types import Verdict

pytestmark = pytest.mark.django_db

HOSTILE = b'''import sys


def add(a, b):
    print("noise\\x00\\x1b[2J")
    raise ValueError("bad\\x00value")


if __name__ == "__main__":
    sys.stderr.write("err\\x00\\n")
    raise SystemExit("crash\\x00")
'''


def submit(world, content: bytes) -> Submission:
    return submission_create(
        assignment=world.assignment, student=world.alice, uploads=[("solution.py", content)]
    )


def test_a_report_with_nul_bytes_and_lone_surrogates_is_stored(world):
    submission = submit(world, b"def add(a, b): return a + b\n")
    report = GradeReport(
        score=0,
        max_score=1,
        gradable=True,
        compile_output="warning\x00",
        tests=[
            TestOutcome(
                name="echo \x00",
                score=0,
                max_score=1,
                verdict=Verdict.FAILED,
                visibility="visible",
                output="expected 'a', got 'a\x00b\udcff'",
            )
        ],
    )
    assert submission_store_report(submission=submission, report=report)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.GRADED
    assert submission.compile_output == "warning" + REPLACEMENT
    [result] = submission.results.all()
    assert result.name == "echo " + REPLACEMENT
    assert result.output == f"expected 'a', got 'a{REPLACEMENT}b{REPLACEMENT}'"


@pytest.mark.sandbox
def test_a_program_printing_nul_bytes_is_graded_and_its_output_shown(world, settings):
    settings.GRADED_HOOKS = []
    submission = submit(world, HOSTILE)
    graded = submission_grade(submission_id=submission.id)
    assert graded is not None
    graded.refresh_from_db()
    assert (graded.status, graded.error) == (Submission.Status.GRADED, "")
    assert (graded.score, graded.max_score) == (0, 9)
    outputs = list(graded.results.values_list("output", flat=True))
    assert any(f"ValueError: bad{REPLACEMENT}value" in o for o in outputs), outputs
    assert any(f"err{REPLACEMENT}" in o for o in outputs), outputs
    assert not any("\x00" in o for o in outputs)
    # What the API and the outbound webhook send is built from these rows.
    payload = submission_results_payload(submission=graded, staff=False)
    assert payload["tests"] and all("\x00" not in t["output"] for t in payload["tests"])

