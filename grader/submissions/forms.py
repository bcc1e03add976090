from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    upload = MultipleFileField(label="Your file(s) or a zip")

    def clean_upload(self) -> list[tuple[str, bytes]]:
        files = self.cleaned_data["upload"]
        total = sum(f.size for f in files)
        if total > settings.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The upload is {total:,} bytes; the limit is {settings.MAX_UPLOAD_BYTES:,} bytes."
            )
        return [(f.name, f.read()) for f in files]
