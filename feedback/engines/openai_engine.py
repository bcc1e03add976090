"""Any OpenAI-compatible server (``vllm serve``, llama.cpp's server, ...) over HTTP.

Uses ``/v1/chat/completions`` with ``n`` samples per request; stdlib ``urllib`` only. Prompts
go out concurrently (``concurrency`` requests in flight), so a server with continuous batching
(vLLM) batches a whole class's submissions, and a feedback worker stays a thin client: no CUDA,
no model in the worker process.

Thinking budget (``Sampling.thinking_budget``): a reasoning model thinks in
``<think>…</think>`` and can loop. The first request stops after the budget; a sample cut off
there gets ``</think>`` appended and is continued as the same assistant message (vLLM's
``continue_final_message``) for ``max_new_tokens`` more, so every sample ends in a verdict.
This is the generate-then-append fallback: it needs no special ``<think>`` token in the model's
vocabulary and no reasoning parser on the server.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from feedback.engines import (
    VLLM_DEFAULT_MODEL,
    EngineError,
    EngineOptions,
    GenerationStats,
    Sampling,
)


class OpenAIEngine:
    name = "openai"
    needs_answer_prefix = False

    def __init__(
        self, model: str, *, base_url: str = "", api_key: str = "", timeout: float = 300,
        concurrency: int = 128,
    ) -> None:
        if not base_url:
            raise EngineError("the openai engine needs FEEDBACK_OPENAI_BASE_URL (…/v1)")
        if not base_url.startswith(("http://", "https://")):
            raise EngineError(f"FEEDBACK_OPENAI_BASE_URL must be an http(s) URL, got {base_url!r}")
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.concurrency = max(1, concurrency)
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

    def _sample(self, prompt: str, n: int, sampling: Sampling) -> tuple[list[str], int]:
        budget = sampling.thinking_budget
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "n": n,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": budget if budget else sampling.max_new_tokens,
        }
        if sampling.seed is not None:
            payload["seed"] = sampling.seed
        data = self._post(payload)
        tokens = int((data.get("usage") or {}).get("completion_tokens") or 0)
        texts: list[str] = []
        for choice in data["choices"][:n]:
            if not isinstance(choice, dict):
                continue
            text = str((choice.get("message") or {}).get("content") or "")
            if budget and choice.get("finish_reason") == "length":
                text, more = self._finish(prompt, text, sampling)
                tokens += more
            texts.append(text)
        return texts, tokens

    def _finish(self, prompt: str, text: str, sampling: Sampling) -> tuple[str, int]:
        """Close the thinking a sample ran out of budget in, and let it give its verdict."""
        prefix = text if "</think>" in text else text + "\n</think>\n"
        data = self._post({
            "model": self.model,
            "messages": [{"role": "user", "content": prompt},
                         {"role": "assistant", "content": prefix}],
            "n": 1,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_new_tokens,
            "add_generation_prompt": False,
            "continue_final_message": True,
        })
        choices = [c for c in data["choices"] if isinstance(c, dict)]
        more = str((choices[0].get("message") or {}).get("content") or "") if choices else ""
        return prefix + more, int((data.get("usage") or {}).get("completion_tokens") or 0)

    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[str]]:
        started = time.monotonic()
        workers = min(self.concurrency, max(1, len(prompts)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openai") as pool:
            answers = list(pool.map(lambda p: self._sample(p, n, sampling), prompts))
        self.stats.new_tokens += sum(tokens for _, tokens in answers)
        self.stats.prompts += len(prompts)
        self.stats.samples += len(prompts) * n
        self.stats.seconds += time.monotonic() - started
        return [texts for texts, _ in answers]


def build(model: str, options: EngineOptions) -> OpenAIEngine:
    """The registry's constructor (empty ``model``: VibeThinker, the GPU default)."""
    return OpenAIEngine(model or VLLM_DEFAULT_MODEL, base_url=options.base_url,
                        api_key=options.api_key, concurrency=options.concurrency)
