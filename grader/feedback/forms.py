"""The teacher's feedback settings for one assignment."""

from __future__ import annotations

from typing import Any

from django import forms

from grader.feedback.models import AssignmentFeedbackConfig


class FeedbackSettingsForm(forms.ModelForm):
    class Meta:
        model = AssignmentFeedbackConfig
        fields = ["enabled", "release", "auto_release_agreement", "samples", "temperature",
                  "thinking_budget", "max_new_tokens", "system_prompt"]
        labels = {
            "enabled": "Explain failing submissions",
            "release": "Release",
            "auto_release_agreement": "Automatic release at validated agreement ≥ (0–1)",
            "samples": "Model samples per submission (K)",
            "thinking_budget": "Thinking budget (tokens)",
            "max_new_tokens": "Answer tokens",
            "system_prompt": "System prompt (the role text before the prompt)",
        }
        widgets = {"system_prompt": forms.Textarea(attrs={"rows": 4})}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        share = data.get("auto_release_agreement")
        if share is not None and not 0 < share <= 1:
            self.add_error("auto_release_agreement", "Give a share between 0 and 1, e.g. 0.75.")
        if data.get("release") == AssignmentFeedbackConfig.Release.AUTO and share is None:
            self.add_error("auto_release_agreement", "Automatic release needs a threshold.")
        temperature = data.get("temperature")
        if temperature is not None and not 0 <= temperature <= 2:
            self.add_error("temperature", "Temperature goes from 0 to 2.")
        if (data.get("samples") or 0) > 32:
            self.add_error("samples", "At most 32 samples.")
        if (data.get("thinking_budget") or 0) > 32768:
            self.add_error("thinking_budget", "At most 32768 tokens.")
        if (data.get("max_new_tokens") or 0) > 8192:
            self.add_error("max_new_tokens", "At most 8192 tokens.")
        if len(data.get("system_prompt") or "") > 4000:
            self.add_error("system_prompt", "At most 4000 characters.")
        return data
