"""API tokens, per-course LMS integrations, and the logs of webhooks in and out."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from grader.courses.models import Course
from grader.submissions.models import Submission


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored: the token is 32 random
    bytes, so a fast hash is enough (nothing to brute-force) and lookup is one indexed query."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)  # shown in the admin to tell tokens apart
    key_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class CourseIntegration(models.Model):
    """How one course talks to its LMS: the shared HMAC secret for webhooks in both directions
    and where graded results are POSTed."""

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="integration")
    secret = models.CharField(max_length=200)
    callback_url = models.URLField(blank=True)
    enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"LMS integration of {self.course.code}"


class InboundSubmission(models.Model):
    """One accepted inbound webhook delivery, keyed by its idempotency key: a retried delivery
    finds this row and gets the same submission back."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=200)
    body_sha256 = models.CharField(max_length=64)
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["course", "idempotency_key"], name="one_submission_per_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.course_id}/{self.idempotency_key} → {self.submission_id}"


class WebhookDelivery(models.Model):
    """One event to POST to a course's callback URL; its attempts are logged below."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        DEAD = "dead", "Dead (gave up)"
        # A grade event never sent because a newer grade of the same student and assignment
        # was queued meanwhile: an older grade must not arrive last (grader.lms.webhooks).
        SUPERSEDED = "superseded", "Not sent (a newer grade replaced it)"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    event = models.CharField(max_length=64)
    url = models.URLField()
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    redelivery_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="redeliveries"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["course", "created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="one_attempt_per_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error[:40]}"


class ResultsRelease(models.Model):
    """The release of a submission's withheld results reached the LMS paths (full score to
    LTI, ``results.released`` and ``feedback.released`` webhooks), or was not needed because
    the submission was graded after its release. One per submission: the periodic sweep
    (grader.lms.release) does each release once."""

    submission = models.OneToOneField(
        Submission, on_delete=models.CASCADE, related_name="results_release"
    )
    released_at = models.DateTimeField(default=timezone.now)
    # False: graded when its results were already released, nothing was withheld.
    was_withheld = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"results of submission {self.submission_id} released {self.released_at:%Y-%m-%d}"
