"""Offline vLLM on a GPU: all prompts of a batch in one ``generate`` call with ``n=K``.

Prefix caching lets the K samples of a prompt share one prompt pass. Reasoning models think
first; we let them, then ask for the verdict as JSON in a second, schema-constrained pass over
"prompt + thinking" (structured output on the final answer only).
"""

from __future__ import annotations

import json
import time
from typing import Any

from feedback.engines import (
    VLLM_DEFAULT_MODEL,
    EngineError,
    EngineOptions,
    GenerationStats,
    Sampling,
)
from feedback.voting import CATEGORIES

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "line": {"type": "integer", "minimum": 1},
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "failing_test": {"type": "string"},
        "steps": {"type": "array", "items": {"type": "string"}, "maxItems": 8},
        "hint": {"type": "string"},
    },
    "required": ["line", "category", "steps", "hint"],
}
VERDICT_MAX_TOKENS = 384


class VLLMEngine:
    name = "vllm"
    needs_answer_prefix = False

    def __init__(self, model: str, **llm_kwargs: Any) -> None:
        self.model = model
        self.stats = GenerationStats()
        self._llm_kwargs = llm_kwargs
        self._llm: Any = None

    def _load(self) -> Any:
        if self._llm is not None:
            return self._llm
        try:
            import torch
            from vllm import LLM
        except ImportError as exc:
            raise EngineError("the vllm engine needs the vllm package (GPU workers only)") from exc
        if not torch.cuda.is_available():
            raise EngineError("the vllm engine needs a CUDA GPU and none is visible")
        kwargs = {"enable_prefix_caching": True, **self._llm_kwargs}
        try:
            self._llm = LLM(model=self.model, **kwargs)
        except (OSError, ValueError) as exc:
            raise EngineError(f"vLLM could not load {self.model}: {exc}") from exc
        return self._llm

    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[str]]:
        llm = self._load()  # first: a clear EngineError when vllm or the GPU is missing
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        started = time.monotonic()
        think = SamplingParams(
            n=n,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_new_tokens,
            seed=sampling.seed,
        )
        chats = [[{"role": "user", "content": p}] for p in prompts]
        first = llm.chat(chats, think, use_tqdm=False)
        follow_ups: list[list[dict[str, str]]] = []
        for chat, output in zip(chats, first, strict=True):
            for sample in output.outputs:
                self.stats.new_tokens += len(sample.token_ids)
                follow_ups.append(
                    [
                        *chat,
                        {"role": "assistant", "content": sample.text},
                        {"role": "user", "content": "Now give the verdict as JSON only."},
                    ]
                )
        final = SamplingParams(
            n=1,
            temperature=0.0,
            max_tokens=VERDICT_MAX_TOKENS,
            structured_outputs=StructuredOutputsParams(json=json.dumps(VERDICT_SCHEMA)),
        )
        verdicts = llm.chat(follow_ups, final, use_tqdm=False)
        texts = [v.outputs[0].text for v in verdicts]
        for v in verdicts:
            self.stats.new_tokens += len(v.outputs[0].token_ids)
        self.stats.prompts += len(prompts)
        self.stats.samples += len(prompts) * n
        self.stats.seconds += time.monotonic() - started
        return [texts[i * n : (i + 1) * n] for i in range(len(prompts))]


def build(model: str, options: EngineOptions) -> VLLMEngine:
    """The registry's constructor (empty ``model``: VibeThinker)."""
    return VLLMEngine(model or VLLM_DEFAULT_MODEL)
