from __future__ import annotations

from django.db import models
from django.utils import timezone

from grader.courses.models import Assignment
from grader.submissions.models import Submission


class AssignmentFeedbackConfig(models.Model):
    """Per-assignment feedback settings; an assignment without one uses the site settings."""

    assignment = models.OneToOneField(
        Assignment, on_delete=models.CASCADE, related_name="feedback_config"
    )
    class Release(models.TextChoices):
        REVIEW = "review", "A teacher approves each explanation"
        AUTO = "auto", "Released automatically when validated agreement is high enough"

    enabled = models.BooleanField(default=True)
    samples = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: site default")
    temperature = models.FloatField(default=0.6)
    max_new_tokens = models.PositiveIntegerField(null=True, blank=True)
    system_prompt = models.TextField(blank=True, help_text="Empty: the built-in role text")
    thinking_budget = models.PositiveIntegerField(
        null=True, blank=True, help_text="Reasoning tokens before the verdict is forced"
    )
    release = models.CharField(max_length=8, choices=Release.choices, default=Release.REVIEW)
    auto_release_agreement = models.FloatField(
        null=True, blank=True, help_text="Validated agreement (0..1) for automatic release"
    )

    def __str__(self) -> str:
        return f"feedback settings of assignment {self.assignment_id}"


class Feedback(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the model"
        PENDING_REVIEW = "pending_review", "Waiting for a teacher"
        RELEASED = "released", "Released"
        AUTO_RELEASED = "auto_released", "Released automatically"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Could not be generated"

    VISIBLE_TO_STUDENT = (Status.RELEASED, Status.AUTO_RELEASED)

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="feedback")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    line = models.PositiveIntegerField(null=True, blank=True)  # 1-based in the submitted file
    category = models.CharField(max_length=32, blank=True)
    explanation = models.TextField(blank=True)
    hint = models.TextField(blank=True)
    agreement = models.FloatField(default=0)  # share of samples that voted for the verdict
    samples_count = models.PositiveIntegerField(default=0)
    samples = models.JSONField(default=list, blank=True)  # every raw sample + its parse
    suspicious_lines = models.JSONField(default=list, blank=True)  # [[line, ochiai], ...]
    removed_count = models.PositiveIntegerField(default=0)  # code pieces the cleanup removed
    engine = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    # How far the verdict was checked in the sandbox: validated (a repair on the line makes every
    # failing test pass and breaks none), partial (some), unverified (never auto-released).
    verification = models.CharField(max_length=12, default="unverified")
    # Teacher-only: the corrected line that was checked, never in a student page, API, webhook
    # or LTI payload.
    repair = models.TextField(blank=True)
    repair_source = models.CharField(max_length=16, blank=True)  # search | model
    explanation_source = models.CharField(max_length=16, blank=True)  # template | model
    grounding_test = models.CharField(max_length=300, blank=True)  # "" for a hidden test
    candidates = models.JSONField(default=list, blank=True)  # checked repairs (teacher-only)
    voters = models.JSONField(default=list, blank=True)  # each vote: line, origin, status
    sandbox_runs = models.PositiveIntegerField(default=0)
    # The claim of the worker generating it (None: nobody): a duplicated or re-sent message
    # finds the row claimed and does nothing; the sweeper frees a claim older than the hard
    # time limit (its worker died).
    claimed_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"feedback on submission {self.submission_id}: {self.status}"

    @property
    def validated(self) -> bool:
        return self.verification == "validated"

    @property
    def category_label(self) -> str:
        return self.category.replace("_", " ")
