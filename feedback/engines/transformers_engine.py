"""Hugging Face transformers on the CPU: the embedded default and CI's engine.

Loads a local model only (``HF_HUB_OFFLINE=1``): a GGUF file (transformers de-quantizes it with
``gguf_file=``) or a model folder. Nothing is fetched from a hub at run time.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from feedback.engines import (
    EngineError,
    EngineOptions,
    GenerationStats,
    Sampling,
    smollm2_gguf_path,
)


class TransformersEngine:
    name = "transformers"
    needs_answer_prefix = True

    def __init__(self, model: str) -> None:
        self.model = model
        self.stats = GenerationStats()
        self.load_seconds = 0.0
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._model: Any = None

    def _load(self) -> None:
        if self._model is not None:
            return
        os.environ["HF_HUB_OFFLINE"] = "1"  # never reach for a hub from a grading worker
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise EngineError(
                "the transformers engine needs torch, transformers, gguf and accelerate"
            ) from exc
        path = Path(self.model)
        if not path.exists():
            raise EngineError(f"feedback model not found: {self.model}")
        started = time.monotonic()
        try:
            if path.is_file():  # a GGUF file: folder + gguf_file=
                kwargs: dict[str, Any] = {"gguf_file": path.name}
                folder = str(path.parent)
            else:
                kwargs = {}
                folder = str(path)
            self._tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
            self._model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
        except (OSError, ValueError) as exc:
            raise EngineError(f"could not load feedback model {self.model}: {exc}") from exc
        self._model.eval()
        self.load_seconds = time.monotonic() - started

    def _chat_inputs(self, prompt: str, prefix: str) -> Any:
        messages = [{"role": "user", "content": prompt}]
        if self._tokenizer.chat_template:
            text = self._tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=False
            )
        else:
            text = prompt + "\n"
        return self._tokenizer(text + prefix, return_tensors="pt", add_special_tokens=False)

    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[str]]:
        import torch

        with self._lock:  # one model, one generate at a time
            self._load()
            if sampling.seed is not None:
                torch.manual_seed(sampling.seed)
            results: list[list[str]] = []
            started = time.monotonic()
            for prompt in prompts:
                inputs = self._chat_inputs(prompt, sampling.prefix)
                prompt_len = inputs["input_ids"].shape[1]
                with torch.inference_mode():
                    out = self._model.generate(
                        **inputs,
                        do_sample=sampling.temperature > 0,
                        temperature=sampling.temperature if sampling.temperature > 0 else None,
                        top_p=sampling.top_p if sampling.temperature > 0 else None,
                        max_new_tokens=sampling.max_new_tokens,
                        num_return_sequences=n,
                        pad_token_id=self._tokenizer.eos_token_id,
                    )
                new = out[:, prompt_len:]
                eos = self._tokenizer.eos_token_id
                self.stats.new_tokens += int((new != eos).sum())
                results.append(
                    [
                        sampling.prefix + self._tokenizer.decode(row, skip_special_tokens=True)
                        for row in new
                    ]
                )
            self.stats.prompts += len(prompts)
            self.stats.samples += len(prompts) * n
            self.stats.seconds += time.monotonic() - started
            return results


# One loaded model per process and path: loading costs ~20 s on two CPU cores.
_LOADED: dict[str, TransformersEngine] = {}


def build(model: str, options: EngineOptions) -> TransformersEngine:
    """The registry's constructor: ``model`` is a GGUF file or model folder (empty: SmolLM2)."""
    path = model or str(smollm2_gguf_path())
    if path not in _LOADED:
        _LOADED[path] = TransformersEngine(path)
    return _LOADED[path]
