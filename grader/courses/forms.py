from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from grader.courses.models import Assignment, Extension


class AssignmentSettingsForm(forms.ModelForm):
    class Meta:
        model = Assignment
        fields = [
            "due_at",
            "late_penalty_percent",
            "max_attempts",
            "cooldown_minutes",
            "is_published",
            "release_policy",
        ]
        widgets = {
            "due_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
        }
        labels = {
            "due_at": "Due date",
            "is_published": "Published (students can see it)",
            "release_policy": "Release hidden results and explanations",
        }
        help_texts = {
            "release_policy": "What waits: hidden tests' points, the total score and "
            "explanations. Visible tests and sanity checks are shown at once. After the due "
            "date uses each student's own, extensions included. Who approves an explanation is "
            "the Feedback setting below; this decides when an approved one is shown.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Optional in a POST (scripts, older forms): left out, the current policy stays.
        self.fields["release_policy"].required = False

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if not data.get("release_policy"):
            data["release_policy"] = (
                self.instance.release_policy or Assignment.ReleasePolicy.IMMEDIATE
            )
        if (
            data.get("release_policy") == Assignment.ReleasePolicy.AFTER_DUE
            and not data.get("due_at")
        ):
            self.add_error("release_policy", "Releasing after the due date needs a due date.")
        return data

    def clean_late_penalty_percent(self) -> int:
        value: int = self.cleaned_data["late_penalty_percent"]
        if value > 100:
            raise forms.ValidationError("A penalty is at most 100%.")
        return value


def _checked_package(package: Any) -> Any:
    if package.size > settings.PACKAGE_MAX_UPLOAD_BYTES:
        raise forms.ValidationError(
            f"The package is {package.size:,} bytes; the limit is "
            f"{settings.PACKAGE_MAX_UPLOAD_BYTES:,} bytes."
        )
    return package


PACKAGE_HELP = (
    "A zip of the assignment folder: assignment.toml and a tests/ folder. A solution/ folder "
    "with your reference solution is graded twice after upload and the result shown to staff "
    "only; students never see it."
)


class AssignmentCreateForm(AssignmentSettingsForm):
    package = forms.FileField(help_text=PACKAGE_HELP)

    field_order = ["package"]

    class Meta(AssignmentSettingsForm.Meta):
        pass

    def clean_package(self) -> Any:
        return _checked_package(self.cleaned_data["package"])


class PackageReplaceForm(forms.Form):
    package = forms.FileField(
        label="New package",
        help_text="Same language and submission file. Graded submissions keep their results "
        "until you regrade them.",
    )

    def clean_package(self) -> Any:
        return _checked_package(self.cleaned_data["package"])


class ExtensionForm(forms.ModelForm):
    username = forms.CharField(label="Student username")

    class Meta:
        model = Extension
        fields = ["due_at"]
        widgets = {
            "due_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
        }
        labels = {"due_at": "New due date"}
