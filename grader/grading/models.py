from __future__ import annotations

from django.db import models

from grader.submissions.models import Submission


class TestResult(models.Model):
    __test__ = False  # a model, not a pytest class

    class Verdict(models.TextChoices):
        PASSED = "passed"
        FAILED = "failed"
        TIMEOUT = "timeout"
        MEMORY = "memory"
        RUNTIME_ERROR = "runtime_error"
        OUTPUT_LIMIT = "output_limit"
        COMPILE_ERROR = "compile_error"
        SANDBOX_ERROR = "sandbox_error"

    class Visibility(models.TextChoices):
        VISIBLE = "visible"
        HIDDEN = "hidden"
        AFTER_DUE_DATE = "after_due_date"

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="results")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=300)
    kind = models.CharField(max_length=16)
    score = models.FloatField()
    max_score = models.FloatField()
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    visibility = models.CharField(max_length=16, choices=Visibility.choices)
    output = models.TextField(blank=True)
    wall_seconds = models.FloatField(default=0)
    # ``sanity = true`` in the package: shown to the student at once, whatever the release policy.
    sanity = models.BooleanField(default=False)
    # Feedback evidence, collected by the grading worker in the sandbox for failing submissions
    # (a traced second run; never part of the score): {"spec": index into the package's tests,
    # "lines": [executed lines of the submission file]}. Staff-only, never shown to students.
    trace = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "position"], name="one_result_per_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.verdict}"

    @property
    def passed(self) -> bool:
        return self.verdict == self.Verdict.PASSED
