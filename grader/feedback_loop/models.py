"""Students answer released feedback and results; teachers reuse what they wrote.

Nothing here holds or shows ``Feedback.repair``: flags, regrade threads and saved comments are
read by students or written for them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from grader.courses.models import Assignment, Course
from grader.feedback.models import Feedback
from grader.submissions.models import Submission


class Release(models.Model):
    """When a feedback first became visible to its student (the next-attempt outcome counts
    only attempts made after it). Written with the release, in its transaction."""

    feedback = models.OneToOneField(Feedback, on_delete=models.CASCADE, related_name="release")
    released_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"feedback {self.feedback_id} released {self.released_at:%Y-%m-%d %H:%M}"


class Resolution(models.Model):
    """Who resolved it, when, how and why: kept on the row, never overwritten (a resolved
    flag or request cannot be resolved again)."""

    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, blank=True)  # "" while open
    note = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_open(self) -> bool:
        return not self.outcome


class Flag(Resolution):
    """A student says their released explanation is wrong, unclear or gave the answer away."""

    class Kind(models.TextChoices):
        WRONG = "wrong", "Wrong"
        UNCLEAR = "unclear", "Unclear"
        GAVE_AWAY = "gave_away", "Gave away the answer"

    class Outcome(models.TextChoices):
        UPHELD = "upheld", "Upheld: the student is right"
        WITHDRAWN = "withdrawn", "Upheld, and the explanation is withdrawn"
        DISMISSED = "dismissed", "Dismissed: the explanation stands"

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    comment = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback_flags"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["feedback", "kind"], name="one_flag_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} flag on feedback {self.feedback_id}"

    def get_outcome_display(self) -> str:
        return str(dict(self.Outcome.choices).get(self.outcome, "Open"))


class RegradeRequest(Resolution):
    """A student asks staff to look at one test of their submission again, in a thread.

    The test is kept by position and name, not as a foreign key: a regrade replaces the
    submission's result rows. ``test_position`` is None for "the hidden tests" (students never
    learn a hidden test's name, so they cannot pick one)."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    HIDDEN = "hidden"

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="regrade_requests"
    )
    test_position = models.PositiveIntegerField(null=True, blank=True)
    test_name = models.CharField(max_length=300, blank=True)  # "" for the hidden tests
    # "pos:<n>" or "hidden": one open request per test of a submission.
    test_key = models.CharField(max_length=16)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="regrade_requests"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "test_key"], condition=models.Q(outcome=""),
                name="one_open_request_per_test",
            ),
        ]

    def __str__(self) -> str:
        return f"regrade request on submission {self.submission_id} ({self.test_key})"

    @property
    def about_hidden(self) -> bool:
        return self.test_position is None

    @property
    def test_label(self) -> str:
        return self.test_name if not self.about_hidden else "the hidden tests"

    def get_outcome_display(self) -> str:
        return str(dict(self.Outcome.choices).get(self.outcome, "Open"))


class RequestMessage(models.Model):
    request = models.ForeignKey(RegradeRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    from_staff = models.BooleanField(default=False)  # the author's role when writing it
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"message {self.pk} on request {self.request_id}"


class SavedComment(models.Model):
    """A teacher's explanation kept for reuse on the same test and bug category."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="saved_comments")
    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    test_name = models.CharField(max_length=300, blank=True)
    category = models.CharField(max_length=32, blank=True)
    explanation = models.TextField()
    hint = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["assignment_id", "test_name", "category", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} for {self.test_name or 'any test'} / {self.category or 'any'}"

    @property
    def category_label(self) -> str:
        return self.category.replace("_", " ")
