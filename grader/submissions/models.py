from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from grader.courses.models import Assignment


class Submission(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        GRADED = "graded", "Graded"
        # The teacher's package or our test harness failed (sandbox.outcome.Ungradable): no
        # score, no attempt used, no graded hooks (LMS score, webhook, feedback); ``error``
        # holds the cause for staff. A regrade once it is fixed grades it normally.
        UNGRADABLE = "ungradable", "Could not be graded"
        # Our infrastructure failed after retries (grading.tasks, ops.sweeper): no attempt used.
        FAILED_INFRA = "failed_infra", "Grading failed"

    FINAL_STATUSES = (Status.GRADED, Status.UNGRADABLE, Status.FAILED_INFRA)
    # Finished without a grade, through no fault of the student: these never use an attempt,
    # never start a cooldown, and are listed for staff to regrade.
    NOT_GRADED_STATUSES = (Status.UNGRADABLE, Status.FAILED_INFRA)

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="submissions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions"
    )
    attempt = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    score = models.FloatField(null=True, blank=True)
    max_score = models.FloatField(null=True, blank=True)
    # False after a compile error: the attempt is not counted against the student's limit.
    # (UNGRADABLE is a status, not this flag: that submission compiled.)
    gradable = models.BooleanField(default=True)
    compile_output = models.TextField(blank=True)
    notes = models.TextField(blank=True)  # intake notes ("main.py was saved as solution.py")
    # Why it was not graded, for staff only: FAILED_INFRA's infrastructure error, UNGRADABLE's
    # cause (it may quote the teacher's hidden tests: never shown to the student).
    error = models.TextField(blank=True)
    execution_seconds = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Operations (grader.ops): which queue the row was last sent to and when, so the sweeper can
    # re-send a lost message to the same queue; how often it was recovered from a dead worker;
    # how many times results were stored (1 after a normal grading, +1 per regrade).
    queue = models.CharField(max_length=16, default="grading")
    queued_at = models.DateTimeField(default=timezone.now)
    recoveries = models.PositiveIntegerField(default=0)
    gradings = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "student", "attempt"], name="one_submission_per_attempt"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["status", "queued_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.student} attempt {self.attempt} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def uses_attempt(self) -> bool:
        """Counted against max_attempts: not a compile error, not ungradable, not failed."""
        return self.gradable and self.status not in self.NOT_GRADED_STATUSES


class SubmissionFile(models.Model):
    """The bytes a student uploaded, kept in the database: one transaction stores all of it."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "name"], name="unique_file_name")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def text(self) -> str:
        return bytes(self.content).decode("utf-8", errors="replace")
