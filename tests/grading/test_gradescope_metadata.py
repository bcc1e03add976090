"""A Gradescope autograder graded by the web app reads Gradescope's submission_metadata.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grader.courses.services import assignment_create_from_package, extension_set
from grader.grading.services import submission_grade
from grader.submissions.services import submission_create

pytestmark = [pytest.mark.sandbox, pytest.mark.django_db]

TOML = """
title = "Metadata"
language = "python"
submission = "solution.py"
[[tests]]
type = "gradescope"
autograder = "ag"
points = 4
"""
# Reports what it read, and scores 1 point per earlier graded submission it was told about.
RUN = """#!/usr/bin/env python3
import json
m = json.load(open("/autograder/submission_metadata.json"))
seen = {"id": m["id"], "users": m["users"], "due": m["assignment"]["due_date"],
        "title": m["assignment"]["title"], "total": m["assignment"]["total_points"],
        "previous": [p["score"] for p in m["previous_submissions"]]}
json.dump({"score": len(m["previous_submissions"]), "output": json.dumps(seen)},
          open("/autograder/results/results.json", "w"))
"""


def package(tmp_path: Path) -> Path:
    root = tmp_path / "package"
    (root / "ag").mkdir(parents=True)
    (root / "assignment.toml").write_text(TOML)
    (root / "ag" / "run_autograder").write_text(RUN)
    return root


def test_the_autograder_is_told_who_submitted_their_deadline_and_earlier_scores(world, tmp_path):
    due = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)
    assignment = assignment_create_from_package(course=world.course, source=package(tmp_path),
                                                due_at=due)
    world.alice.first_name, world.alice.last_name = "Alice", "Liddell"
    world.alice.email = "alice@example.com"
    world.alice.save()
    extension_set(assignment=assignment, username="alice",
                  due_at=datetime(2030, 1, 12, 12, 0, tzinfo=UTC))
    reports = []
    for _ in range(2):
        submission = submission_create(assignment=assignment, student=world.alice,
                                       uploads=[("solution.py", b"x = 1\n")])
        graded = submission_grade(submission_id=submission.id)
        assert graded is not None and graded.status == "graded", graded and graded.error
        result = graded.results.get()
        reports.append((graded.score, json.loads(result.output)))
    (first_score, first), (second_score, second) = reports
    assert first["users"] == [{"id": world.alice.id, "name": "Alice Liddell",
                               "email": "alice@example.com"}]
    assert first["due"] == "2030-01-12T12:00:00+00:00"  # her extension, not the assignment's
    assert (first["title"], first["total"]) == ("Metadata", "4.0")
    assert first["previous"] == [] and first_score == 0
    assert second["previous"] == [0.0] and second_score == 1
    assert second["id"] != first["id"]


def test_setup_builds_are_kept_in_the_data_folder_of_the_settings(settings):
    from sandbox.gradescope_setup import cache_root

    assert cache_root() == Path(settings.DATA_DIR) / "gradescope-setup"
