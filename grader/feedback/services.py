"""Feedback writes: request it after grading, generate it (GPU worker), release or reject it.

Feedback never changes the score: it reads the stored results and writes only ``Feedback``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from feedback.engines import REGISTRY, Engine, EngineError, Sampling, get_engine
from feedback.pipeline import build_evidence, explain_batch, sandbox_job
from feedback.prompt import SYSTEM_PROMPT, TestEvidence
from feedback.validation import VALIDATED, Budget
from grader.courses.models import Course
from grader.feedback.models import AssignmentFeedbackConfig, Feedback
from grader.grading.models import TestResult
from grader.lib import events
from grader.lib.sandbox import sandbox_backend
from grader.submissions.models import Submission
from sandbox.evidence import TestKey, Trace, collect_traces, match_traces
from sandbox.package import AssignmentPackage, load_package
from sandbox.testtypes import TRACED_TYPES

logger = logging.getLogger(__name__)


def feedback_released_on_commit(submission_ids: list[int]) -> None:
    """Record the release time, and emit ``feedback.released`` for each submission
    (grader.lib.events: its subscribers, the LMS webhook among them, run once the release
    commits; a failing one is logged, the release itself has already happened)."""
    from grader.feedback_loop.services import feedback_release_record
    from grader.lms.release import released_for_student

    # An explanation the assignment's release policy still withholds reaches its student, and
    # the LMS, at the release instead (grader.lms.release).
    submission_ids = released_for_student(submission_ids)
    # When the student could first read it: the dashboard's next-attempt outcome counts only
    # attempts made after it. In the releasing transaction, like the release itself.
    feedback_release_record(submission_ids=submission_ids)

    for submission_id in submission_ids:
        events.emit(events.FEEDBACK_RELEASED, submission_id=submission_id)


@cache
def feedback_engine() -> Engine:
    """One engine per worker process: the model loads once, on the first feedback.

    The in-process vLLM engine is refused here: CUDA cannot start inside a Celery prefork child
    (celery#1709), and a worker that holds the GPU cannot batch across workers. Feedback workers
    reach ``vllm serve`` over HTTP (the openai engine); ``vllm`` stays for the bench and
    ``evaluate_feedback``."""
    if REGISTRY[settings.FEEDBACK_ENGINE].in_process_gpu:
        raise EngineError(
            "feedback workers do not load vLLM in-process: run `vllm serve` (docker compose "
            "--profile gpu) and set FEEDBACK_ENGINE=openai and FEEDBACK_OPENAI_BASE_URL"
        )
    return get_engine(
        settings.FEEDBACK_ENGINE,
        settings.FEEDBACK_MODEL,
        base_url=settings.FEEDBACK_OPENAI_BASE_URL,
        api_key=settings.FEEDBACK_OPENAI_API_KEY,
        concurrency=settings.FEEDBACK_HTTP_CONCURRENCY,
    )


def _config(submission: Submission) -> AssignmentFeedbackConfig:
    config = AssignmentFeedbackConfig.objects.filter(assignment_id=submission.assignment_id).first()
    return config or AssignmentFeedbackConfig(assignment_id=submission.assignment_id)


def feedback_wanted(submission: Submission) -> bool:
    """Feedback is on (site and assignment), the submission was graded, and a test failed that
    feedback can work with: a traced test (TRACED_TYPES: io, pytest; re-run to check repairs), or
    any test when a model samples verdicts. A submission failing only static rules or a gradescope
    autograder, with no model, would get an empty, unverified row: none is made."""
    config = _config(submission)
    if not settings.FEEDBACK_ENABLED or not config.enabled:
        return False
    if submission.status != Submission.Status.GRADED or not submission.gradable:
        return False
    failing = submission.results.exclude(verdict=TestResult.Verdict.PASSED)
    samples = config.samples if config.samples is not None else settings.FEEDBACK_SAMPLES
    return failing.exists() if samples > 0 else failing.filter(kind__in=TRACED_TYPES).exists()


def feedback_collect_traces(*, submission: Submission) -> int:
    """Trace the submission's tests in this worker's sandbox and store, on each result, the
    lines it runs (feedback evidence, never the score). Returns how many results got a trace.

    Called by the grading worker right after grading: student code runs only where a sandbox
    is, and the feedback worker later reads what is stored here."""
    package = load_package(Path(submission.assignment.package_path))
    files = {f.name: bytes(f.content) for f in submission.files.all()}
    traces = collect_traces(sandbox_backend(), package, files)
    results = list(submission.results.all())
    stored = 0
    for result, (key, trace) in zip(
        results, match_traces([(r.kind, r.name) for r in results], traces), strict=True
    ):
        if key is None:
            continue
        data = {"spec": key.spec, "lines": sorted(trace.covered) if trace else None}
        TestResult.objects.filter(id=result.id).update(trace=data)
        stored += 1
    return stored


def feedback_request_on_graded(submission_id: int) -> None:
    """GRADED_HOOK (runs in the grading worker): trace the failing submission's tests, create a
    PENDING feedback row and enqueue the feedback task for it."""
    from grader.feedback.tasks import explain_submission_task

    submission = Submission.objects.select_related("assignment").get(id=submission_id)
    if not feedback_wanted(submission):
        return
    try:
        feedback_collect_traces(submission=submission)
    except Exception:  # evidence is optional: feedback still runs, with less to go on
        logger.exception("tracing submission %s for feedback failed", submission_id)
    _, created = Feedback.objects.get_or_create(submission=submission)
    if created:
        transaction.on_commit(lambda: explain_submission_task.delay(submission_id))


def _evidence(submission: Submission, package: AssignmentPackage) -> list[TestEvidence]:
    """Evidence from the stored results and their traces (no student code runs here)."""
    rows = []
    for r in submission.results.all():
        trace = r.trace if isinstance(r.trace, dict) else {}
        spec = trace.get("spec")
        key = None
        if isinstance(spec, int) and 0 <= spec < len(package.tests) and r.kind in TRACED_TYPES:
            key = TestKey(r.kind, spec, r.name)
        lines = trace.get("lines")
        rows.append((key, Trace(frozenset(lines)) if isinstance(lines, list) else None,
                     (r.kind, r.name, r.passed, r.visibility == TestResult.Visibility.VISIBLE,
                      r.output)))
    traces = [(k, t) for k, t, _ in rows if k is not None]
    evidence = build_evidence(package, [row for _, _, row in rows], traces)
    return evidence


def _budget() -> Budget:
    return Budget(max_candidates=settings.FEEDBACK_REPAIR_MAX_CANDIDATES,
                  seconds=settings.FEEDBACK_REPAIR_SECONDS)


def feedback_generate(*, submission_id: int, engine: Engine | None = None) -> Feedback | None:
    """Explain one graded submission (idempotent: an already generated feedback is kept).

    Candidate repairs are checked in this worker's sandbox. Engine errors propagate (the task
    retries them); the row stays PENDING meanwhile.
    """
    submission = Submission.objects.select_related("assignment").get(id=submission_id)
    feedback, _ = Feedback.objects.get_or_create(submission=submission)
    if feedback.status not in (Feedback.Status.PENDING, Feedback.Status.FAILED):
        return feedback
    claim = feedback_claim(feedback_id=feedback.id)
    if claim is None:
        logger.info("feedback %s is being generated by another worker", feedback.id)
        return feedback
    try:
        return _generate(submission, feedback, claim, engine)
    except BaseException:
        # Free the claim so that the task's retry (or the sweeper) can take the row again.
        Feedback.objects.filter(id=feedback.id, claimed_at=claim).update(claimed_at=None)
        raise


def feedback_claim(*, feedback_id: int) -> datetime | None:
    """Claim a PENDING (or FAILED) feedback row for generation; None when another worker holds
    a live claim. A claim older than the hard time limit belongs to a dead worker."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.SWEEPER_RUNNING_AFTER)
    claimed = (
        Feedback.objects.filter(
            id=feedback_id, status__in=[Feedback.Status.PENDING, Feedback.Status.FAILED]
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .update(claimed_at=now)
    )
    return now if claimed == 1 else None


def _generate(submission: Submission, feedback: Feedback, claim: datetime,
              engine: Engine | None) -> Feedback:
    files = {f.name: bytes(f.content) for f in submission.files.all()}
    package = load_package(Path(submission.assignment.package_path))
    config = _config(submission)
    samples = config.samples if config.samples is not None else settings.FEEDBACK_SAMPLES
    sampling = Sampling(
        temperature=config.temperature,
        max_new_tokens=config.max_new_tokens or settings.FEEDBACK_MAX_NEW_TOKENS,
        thinking_budget=config.thinking_budget or settings.FEEDBACK_THINKING_BUDGET,
    )
    job = sandbox_job(
        backend=sandbox_backend(), package=package, files=files,
        assignment=package.description or submission.assignment.description,
        evidence=_evidence(submission, package), budget=_budget(),
        system_prompt=config.system_prompt or SYSTEM_PROMPT,
    )
    if samples > 0:
        engine = engine or feedback_engine()
    [explanation] = explain_batch(
        [job], engine=engine if samples > 0 else None, samples=samples, sampling=sampling,
        search=settings.FEEDBACK_SEARCH,
    )
    v = explanation.verdict
    threshold = (config.auto_release_agreement
                 if config.release == AssignmentFeedbackConfig.Release.AUTO
                 else settings.FEEDBACK_AUTO_RELEASE_AGREEMENT)
    # Only a validated verdict is ever released without a teacher.
    auto = (threshold is not None and v.line is not None and v.verification == VALIDATED
            and v.agreement >= threshold)
    status = Feedback.Status.AUTO_RELEASED if auto else Feedback.Status.PENDING_REVIEW
    engine_name = f"{engine.name}:{Path(engine.model).name}" if engine else "search+template"
    stored = Feedback.objects.filter(id=feedback.id, claimed_at=claim).update(
        claimed_at=None,
        status=status,
        line=v.line,
        category=v.category,
        explanation=v.explanation,
        hint=v.hint,
        agreement=v.agreement,
        samples_count=v.voters,
        samples=[
            {"text": text, "parsed": parsed}
            for text, parsed in zip(explanation.texts, explanation.parsed, strict=True)
        ],
        suspicious_lines=[[ln, round(s, 4)] for ln, s in explanation.suspicious],
        removed_count=v.removed,
        engine=engine_name[:200],
        error="",
        verification=v.verification,
        repair=v.repair,
        repair_source=v.repair_source,
        explanation_source=v.source,
        grounding_test=v.grounding[:300],
        candidates=[c.as_dict() for c in explanation.checks if c.status != "rejected"][:50],
        voters=v.voters_detail[:100],
        sandbox_runs=explanation.runs,
        seconds=round(explanation.seconds, 3),
    )
    feedback.refresh_from_db()
    if not stored:  # the sweeper gave the row to another worker meanwhile: theirs counts
        logger.warning("feedback %s: claim lost while generating; result dropped", feedback.id)
        return feedback
    if status == Feedback.Status.AUTO_RELEASED:
        feedback_released_on_commit([submission.pk])
    return feedback


def feedback_mark_failed(*, submission_id: int, error: str) -> None:
    Feedback.objects.filter(
        submission_id=submission_id, status__in=[Feedback.Status.PENDING, Feedback.Status.FAILED]
    ).update(status=Feedback.Status.FAILED, error=error[:5000], claimed_at=None)


def feedback_sweep(*, now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Re-send the task of every PENDING feedback whose message may be lost (unclaimed and
    untouched for SWEEPER_QUEUED_AFTER s) or whose worker died (claimed longer ago than the hard
    time limit). Safe with live workers: the claim decides who generates. Returns the ids."""
    from grader.feedback.tasks import explain_submission_task

    now = now or timezone.now()
    quiet = now - timedelta(seconds=settings.SWEEPER_QUEUED_AFTER)
    dead = now - timedelta(seconds=settings.SWEEPER_RUNNING_AFTER)
    stale = Feedback.objects.filter(status=Feedback.Status.PENDING).filter(
        Q(claimed_at__isnull=True, updated_at__lt=quiet) | Q(claimed_at__lt=dead)
    ).values_list("id", "submission_id", "claimed_at", "updated_at")[:limit]
    resent: list[int] = []
    for feedback_id, submission_id, claimed_at, updated_at in stale:
        # Conditional on what we saw: a row a worker just claimed or finished is left alone.
        if Feedback.objects.filter(id=feedback_id, status=Feedback.Status.PENDING,
                                   claimed_at=claimed_at, updated_at=updated_at).update(
                claimed_at=None, updated_at=now):
            resent.append(submission_id)

    def send() -> None:
        for submission_id in resent:
            explain_submission_task.delay(submission_id)

    transaction.on_commit(send)
    if resent:
        logger.warning("sweeper: re-sent %d feedback tasks", len(resent))
    return resent


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


@transaction.atomic
def feedback_edit_and_release(*, feedback: Feedback, explanation: str, hint: str) -> None:
    """A teacher's corrected text replaces the model's, then the student sees it."""
    Feedback.objects.filter(id=feedback.id).update(
        explanation=explanation.strip(), hint=hint.strip(), status=Feedback.Status.RELEASED,
        explanation_source="teacher",
    )
    # Sent even when it was already released: the text the student reads has changed.
    feedback_released_on_commit([feedback.submission_id])


@transaction.atomic
def feedback_bulk_release(*, course: Course, min_agreement: float) -> int:
    """Release every pending, *validated* item of the course whose validated agreement is at
    least ``min_agreement``. Unverified and partly checked items need a teacher each."""
    pending = Feedback.objects.filter(
        submission__assignment__course=course,
        status=Feedback.Status.PENDING_REVIEW,
        verification="validated",
        agreement__gte=min_agreement,
    )
    # Locked (Postgres), so the rows released are exactly the ones notified below.
    submission_ids = list(
        pending.select_for_update(of=("self",)).values_list("submission_id", flat=True)
    )
    released = pending.filter(submission_id__in=submission_ids).update(
        status=Feedback.Status.RELEASED
    )
    feedback_released_on_commit(submission_ids)  # each re-checks its status before sending
    return released
