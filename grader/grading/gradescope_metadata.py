"""What a Gradescope autograder reads in ``/autograder/submission_metadata.json``, from our rows.

Gradescope's documented shape (``sandbox.gradescope.default_metadata`` fills the rest: the
package's title and total, nulls). The file lies where the student's own code runs, so it holds
only what the student may know: their own name and email, the deadline that applies to them
(an extension replaces the assignment's), and the time and score of their earlier graded
submissions, but not those submissions' per-test results (hidden tests' outputs would leak;
``results`` carries the score only). Read by ``submission_grade``; one query per relation.
"""

from __future__ import annotations

from typing import Any

from grader.submissions.models import Submission


def gradescope_metadata(*, submission: Submission) -> dict[str, Any]:
    """``submission_metadata.json`` for ``submission`` (Gradescope's keys, ISO 8601 times)."""
    assignment = submission.assignment
    student = submission.student
    due = assignment.due_for(student)
    earlier = (
        Submission.objects.filter(
            assignment=assignment, student=student, status=Submission.Status.GRADED,
            attempt__lt=submission.attempt,
        )
        .order_by("attempt")
        .only("created_at", "score", "max_score")
    )
    return {
        "id": submission.id,
        "created_at": submission.created_at.isoformat(),
        "assignment": {
            "id": assignment.id,
            "course_id": assignment.course_id,
            "title": assignment.title,
            "due_date": due.isoformat() if due else None,
            "late_due_date": None,  # late work is a penalty here, not a second deadline
            "release_date": assignment.created_at.isoformat(),
        },
        "users": [{
            "id": student.id,
            "name": student.get_full_name() or student.get_username(),
            "email": student.email,
        }],  # fmt: skip
        "previous_submissions": [
            {
                "submission_time": s.created_at.isoformat(),
                "score": s.score,
                "results": {"score": s.score, "max_score": s.max_score},
            }
            for s in earlier
        ],
    }
