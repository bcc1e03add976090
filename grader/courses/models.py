from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class Course(models.Model):
    code = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Enrollment(models.Model):
    class Role(models.TextChoices):
        TEACHER = "teacher", "Teacher"
        TA = "ta", "Teaching assistant"
        STUDENT = "student", "Student"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="one_role_per_course")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} in {self.course.code}"

    @property
    def is_staff_role(self) -> bool:
        return self.role in (self.Role.TEACHER, self.Role.TA)


class Assignment(models.Model):
    class ReferenceStatus(models.TextChoices):
        """The package's reference solution (``solution/``), graded twice at upload."""

        NONE = "", "No reference solution"
        PENDING = "pending", "Being checked"
        PASSED = "passed", "Full marks in both runs"
        FAILED = "failed", "Failing or flaky tests"
        UNGRADABLE = "ungradable", "Could not be graded"
        ERROR = "error", "The check itself failed"

    class ReleasePolicy(models.TextChoices):
        """When a student sees the scores of hidden tests, the total, and explanations
        (grader.courses.release). Visible tests and sanity checks are always shown at once."""

        IMMEDIATE = "immediate", "Immediately"
        AFTER_DUE = "after_due", "After the due date (each student's own, extensions included)"
        AFTER_REVIEW = "after_review", "When a teacher releases them"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    language = models.CharField(max_length=16)
    submission_filename = models.CharField(max_length=100)
    # The package is extracted once into a content-addressed folder under MEDIA_ROOT and never
    # modified: a regrade after a package change uses a new folder, old results stay explainable.
    package_path = models.CharField(max_length=500)
    package_sha256 = models.CharField(max_length=64)
    max_attempts = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited")
    due_at = models.DateTimeField(null=True, blank=True)
    late_penalty_percent = models.PositiveIntegerField(
        default=0, help_text="Points taken off a late submission's score, in percent (0-100)"
    )
    cooldown_minutes = models.PositiveIntegerField(
        default=0, help_text="Minutes a student waits between two attempts"
    )
    is_published = models.BooleanField(default=True, help_text="Students see only published ones")
    release_policy = models.CharField(
        max_length=16, choices=ReleasePolicy.choices, default=ReleasePolicy.IMMEDIATE,
        help_text="When students see hidden tests' points, the total score and explanations. "
        "Visible tests and sanity checks are shown at once.",
    )
    # Set by a teacher's "Release results now" (grader.lms.release.results_release): from then
    # on every student sees everything, whatever the policy.
    results_released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Staff only: sandbox.reference.ReferenceCheck.as_json() plus "package_sha256" (the package
    # version it checked), or {"error": ...} when the check itself failed.
    reference_status = models.CharField(
        max_length=16, choices=ReferenceStatus.choices, default="", blank=True
    )
    reference_result = models.JSONField(null=True, blank=True)
    reference_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_past_due(self) -> bool:
        return self.due_at is not None and timezone.now() > self.due_at

    def due_for(self, user: Any) -> datetime | None:
        """The deadline that applies to ``user``: an extension replaces the assignment's."""
        extension = next((e for e in self.extensions.all() if e.student_id == user.pk), None)
        return extension.due_at if extension else self.due_at


class Extension(models.Model):
    """A later deadline for one student on one assignment."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="extensions")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="extensions"
    )
    due_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assignment", "student"], name="one_extension_each"),
        ]

    def __str__(self) -> str:
        return f"{self.student} until {self.due_at:%Y-%m-%d %H:%M}"
