"""Any OpenAI-compatible server (``vllm serve``, llama.cpp's server, ...) over HTTP.

Uses ``/v1/chat/completions`` with ``n`` samples per request; stdlib ``urllib`` only.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from grader.feedback.engines import EngineError, GenerationStats, Sampling


class OpenAIEngine:
    name = "openai"

    def __init__(
        self, model: str, *, base_url: str = "", api_key: str = "", timeout: float = 300
    ) -> None:
        if not base_url:
            raise EngineError("the openai engine needs FEEDBACK_OPENAI_BASE_URL (…/v1)")
        if not base_url.startswith(("http://", "https://")):
            raise EngineError(f"FEEDBACK_OPENAI_BASE_URL must be an http(s) URL, got {base_url!r}")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.stats = GenerationStats()

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            self.base_url + "/chat/completions",
            data=json.dumps(payload).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                data = json.loads(response.read(10_000_000))
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            raise EngineError(f"feedback server {self.base_url} failed: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
            raise EngineError(f"feedback server {self.base_url} gave no choices")
        return data

    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[str]]:
        started = time.monotonic()
        results: list[list[str]] = []
        for prompt in prompts:
            payload: dict[str, Any] = {
                "model": self.model,
                "messages": [{"role": "user", "content": prompt}],
                "n": n,
                "temperature": sampling.temperature,
                "top_p": sampling.top_p,
                "max_tokens": sampling.max_new_tokens,
            }
            if sampling.seed is not None:
                payload["seed"] = sampling.seed
            data = self._post(payload)
            texts = [
                str((c.get("message") or {}).get("content") or "")
                for c in data["choices"]
                if isinstance(c, dict)
            ]
            usage = data.get("usage") or {}
            self.stats.new_tokens += int(usage.get("completion_tokens") or 0)
            results.append(texts)
        self.stats.prompts += len(prompts)
        self.stats.samples += len(prompts) * n
        self.stats.seconds += time.monotonic() - started
        return results
