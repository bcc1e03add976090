"""Feedback writes: request it after grading, generate it (GPU worker), release or reject it.

Feedback never changes the score: it reads the stored results and writes only ``Feedback``.
"""

from __future__ import annotations

import logging
from functools import cache, partial
from pathlib import Path

from django.conf import settings
from django.db import transaction

from grader.feedback.coverage import io_test_coverage
from grader.feedback.engines import Engine, Sampling, get_engine
from grader.feedback.models import AssignmentFeedbackConfig, Feedback
from grader.feedback.pipeline import FeedbackJob, explain_batch
from grader.feedback.prompt import TestEvidence
from grader.grading.models import TestResult
from grader.grading.services import sandbox_backend
from grader.submissions.models import Submission
from sandbox.package import load_package

logger = logging.getLogger(__name__)


def feedback_released_on_commit(submission_ids: list[int]) -> None:
    """Once the release commits, send each submission's ``feedback.released`` webhook to its
    course's LMS. A failure to queue it is logged: the release itself has already happened."""
    from grader.lms.services import feedback_released_notify  # lms reads feedback models

    def notify(submission_id: int) -> None:
        try:
            feedback_released_notify(submission_id)
        except Exception:
            logger.exception("feedback.released webhook for submission %s failed", submission_id)

    for submission_id in submission_ids:
        transaction.on_commit(partial(notify, submission_id))


@cache
def feedback_engine() -> Engine:
    """One engine per worker process: the model loads once, on the first feedback."""
    return get_engine(
        settings.FEEDBACK_ENGINE,
        settings.FEEDBACK_MODEL,
        base_url=settings.FEEDBACK_OPENAI_BASE_URL,
        api_key=settings.FEEDBACK_OPENAI_API_KEY,
    )


def _config(submission: Submission) -> AssignmentFeedbackConfig:
    config = AssignmentFeedbackConfig.objects.filter(assignment_id=submission.assignment_id).first()
    return config or AssignmentFeedbackConfig(assignment_id=submission.assignment_id)


def feedback_wanted(submission: Submission) -> bool:
    """Feedback is on (site and assignment), the submission was graded, and a test failed."""
    if not settings.FEEDBACK_ENABLED or not _config(submission).enabled:
        return False
    if submission.status != Submission.Status.GRADED or not submission.gradable:
        return False
    return submission.results.exclude(verdict=TestResult.Verdict.PASSED).exists()


def feedback_request_on_graded(submission_id: int) -> None:
    """GRADED_HOOK: create a PENDING feedback row and enqueue the GPU task for it."""
    from grader.feedback.tasks import explain_submission_task

    submission = Submission.objects.get(id=submission_id)
    if not feedback_wanted(submission):
        return
    _, created = Feedback.objects.get_or_create(submission=submission)
    if created:
        transaction.on_commit(lambda: explain_submission_task.delay(submission_id))


def _evidence(submission: Submission, code_files: dict[str, bytes]) -> tuple[str, list]:
    package = load_package(Path(submission.assignment.package_path))
    coverage = io_test_coverage(sandbox_backend(), package, code_files)
    io_specs = {t.name: t for t in package.tests if t.type == "io"}
    evidence = []
    for r in submission.results.all():
        spec = io_specs.get(r.name) if r.kind == "io" else None
        evidence.append(
            TestEvidence(
                name=r.name,
                passed=r.passed,
                visible=r.visibility == TestResult.Visibility.VISIBLE,
                stdin=spec.stdin if spec else "",
                expected=spec.expected_stdout if spec else "",
                actual=r.output,
                covered=coverage.get(r.name) if spec else None,
            )
        )
    return package.description or submission.assignment.description, evidence


def feedback_generate(*, submission_id: int, engine: Engine | None = None) -> Feedback | None:
    """Explain one graded submission (idempotent: an already generated feedback is kept).

    Engine errors propagate (the task retries them); the row stays PENDING meanwhile.
    """
    submission = Submission.objects.select_related("assignment").get(id=submission_id)
    feedback, _ = Feedback.objects.get_or_create(submission=submission)
    if feedback.status not in (Feedback.Status.PENDING, Feedback.Status.FAILED):
        return feedback
    files = {f.name: bytes(f.content) for f in submission.files.all()}
    filename = submission.assignment.submission_filename
    code = files.get(filename, b"").decode("utf-8", errors="replace")
    assignment_text, evidence = _evidence(submission, files)
    config = _config(submission)
    samples = config.samples or settings.FEEDBACK_SAMPLES
    sampling = Sampling(
        temperature=config.temperature,
        max_new_tokens=config.max_new_tokens or settings.FEEDBACK_MAX_NEW_TOKENS,
    )
    engine = engine or feedback_engine()
    [explanation] = explain_batch(
        [FeedbackJob(assignment_text, code, evidence)],
        engine=engine,
        samples=samples,
        sampling=sampling,
    )
    result = explanation.result
    threshold = settings.FEEDBACK_AUTO_RELEASE_AGREEMENT
    status = (
        Feedback.Status.AUTO_RELEASED
        if threshold is not None and result.line is not None and result.agreement >= threshold
        else Feedback.Status.PENDING_REVIEW
    )
    Feedback.objects.filter(id=feedback.id).update(
        status=status,
        line=result.line,
        category=result.category,
        explanation=result.explanation,
        hint=result.hint,
        agreement=result.agreement,
        samples_count=result.samples,
        samples=[
            {"text": text, "parsed": parsed}
            for text, parsed in zip(explanation.texts, result.parsed, strict=True)
        ],
        suspicious_lines=[[ln, round(s, 4)] for ln, s in explanation.suspicious],
        removed_count=result.removed,
        engine=f"{engine.name}:{Path(engine.model).name}"[:200],
        error="",
    )
    feedback.refresh_from_db()
    if status == Feedback.Status.AUTO_RELEASED:
        feedback_released_on_commit([submission.pk])
    return feedback


def feedback_mark_failed(*, submission_id: int, error: str) -> None:
    Feedback.objects.filter(
        submission_id=submission_id, status__in=[Feedback.Status.PENDING, Feedback.Status.FAILED]
    ).update(status=Feedback.Status.FAILED, error=error[:5000])


@transaction.atomic
def feedback_release(*, feedback: Feedback) -> None:
    rows = Feedback.objects.filter(id=feedback.id)
    # Approving feedback that students already see (auto-released) sends no second webhook.
    was_visible = rows.filter(status__in=Feedback.VISIBLE_TO_STUDENT).exists()
    rows.update(status=Feedback.Status.RELEASED)
    if not was_visible:
        feedback_released_on_commit([feedback.submission_id])


@transaction.atomic
def feedback_reject(*, feedback: Feedback) -> None:
    Feedback.objects.filter(id=feedback.id).update(status=Feedback.Status.REJECTED)
