"""LTI 1.3 registrations and what launches taught us: who a platform's `sub` is here, which
course a platform context is, which assignment a resource link opens, where to post scores."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from grader.courses.models import Assignment, Course
from grader.submissions.models import Submission


class LtiPlatform(models.Model):
    """One registration of this tool on an LMS (issuer + client id), as the platform's admin
    gave it. The tool's key pair is generated on first save (see admin) unless pasted in."""

    name = models.CharField(max_length=100)
    issuer = models.CharField(
        max_length=255, help_text="The platform's `iss`, e.g. https://canvas.instructure.com"
    )
    client_id = models.CharField(max_length=255)
    deployment_ids = models.TextField(help_text="One deployment id per line")
    auth_login_url = models.URLField(max_length=500, help_text="The platform's OIDC auth endpoint")
    auth_token_url = models.URLField(
        max_length=500, help_text="The platform's OAuth2 token endpoint"
    )
    auth_audience = models.CharField(
        max_length=500, blank=True, help_text="Empty: the token URL (usual)"
    )
    key_set_url = models.URLField(max_length=500, blank=True, help_text="The platform's JWKS URL")
    key_set = models.JSONField(
        null=True, blank=True, help_text="Or the platform's JWKS itself, when it has no URL"
    )
    tool_private_key = models.TextField(blank=True, help_text="PEM; generated when left empty")
    tool_public_key = models.TextField(blank=True, help_text="PEM; served at /lti/jwks/")
    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        related_name="lti_platforms",
        help_text="Course a new platform context (LMS course) is mapped to on its first launch",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "client_id"], name="one_lti_registration")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.issuer}, {self.client_id})"

    @property
    def deployment_id_list(self) -> list[str]:
        return [line.strip() for line in self.deployment_ids.splitlines() if line.strip()]


class LtiContext(models.Model):
    """A platform's course (LTI context) and the local course it maps to. Created on the first
    launch from it (mapped to the platform's course); an admin may remap it."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="contexts")
    context_id = models.CharField(max_length=255)
    title = models.CharField(max_length=255, blank=True)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lti_contexts")
    memberships_url = models.URLField(max_length=500, blank=True)  # NRPS, from the last launch

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "context_id"], name="one_lti_context")
        ]

    def __str__(self) -> str:
        return f"{self.title or self.context_id} → {self.course.code}"


class LtiUser(models.Model):
    """The local user behind a platform's `sub`. Users are found by this pair only, never by an
    e-mail address (any platform can claim any e-mail)."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="users")
    sub = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_identities"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "sub"], name="one_lti_user")]

    def __str__(self) -> str:
        return f"{self.sub}@{self.platform.name} → {self.user}"


class LtiResourceLink(models.Model):
    """A platform's resource link (a placement in the LMS) and the assignment it opens."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="links")
    resource_link_id = models.CharField(max_length=255)
    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, null=True, blank=True, related_name="lti_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "resource_link_id"], name="one_lti_resource_link"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_link_id} → {self.assignment}"


class LtiGradeTarget(models.Model):
    """Where a student's scores for one assignment go: the AGS claim of their last launch."""

    lti_user = models.ForeignKey(LtiUser, on_delete=models.CASCADE, related_name="grade_targets")
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="+")
    lineitem_url = models.URLField(max_length=500, blank=True)
    lineitems_url = models.URLField(max_length=500, blank=True)
    scopes = models.JSONField(default=list)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lti_user", "assignment"], name="one_grade_target")
        ]

    def __str__(self) -> str:
        return f"{self.lti_user} / {self.assignment}"


class LtiScorePost(models.Model):
    """One score sent (or being sent) to a platform's AGS: the log of passback."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"
        # Never sent: a newer grade for the same target was queued meanwhile, and an older grade
        # must not arrive last (grader.lms.lti.passback.lti_score_post_attempt).
        SUPERSEDED = "superseded", "Not sent (a newer grade replaced it)"

    FULLY_GRADED = "FullyGraded"
    PENDING_RELEASE = "Pending"  # AGS gradingProgress: submitted, the score comes later

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(LtiGradeTarget, on_delete=models.CASCADE, related_name="posts")
    # None while the release policy withholds the score: the LMS is told only that the work is
    # submitted and its grading pending; the full score is posted at release.
    score_given = models.FloatField(null=True, blank=True)
    score_maximum = models.FloatField()
    grading_progress = models.CharField(max_length=16, default=FULLY_GRADED)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)  # the LMS's last answer
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    resend = models.BooleanField(default=False)  # a teacher's resend: sent even if unchanged
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.score_given}/{self.score_maximum} ({self.status})"

    @property
    def value(self) -> tuple[float | None, float, str]:
        """What the LMS is told: only a change of this is sent again."""
        return (self.score_given, self.score_maximum, self.grading_progress)


class LtiLineItem(models.Model):
    """A line item this tool created (or found) in a platform's line item container for one
    assignment, keyed by the resource id the tool gives it: looked up before anything is
    created, under this row's lock, so two students' first scores never create two."""

    lineitems_url = models.URLField(max_length=500)
    resource_id = models.CharField(max_length=255)
    lineitem_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lineitems_url", "resource_id"], name="one_lti_lineitem_per_resource"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} → {self.lineitem_url or '(not found yet)'}"
