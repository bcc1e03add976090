"""Feedback generation speed on one GPU: vLLM ``n=K`` against transformers ``generate``.

    # on any machine with the sandbox: the product's prompts for the corpus, as a file
    .venv/bin/python bench/feedback_gpu.py prompts --out bench/results/feedback_prompts.json
    # on the GPU host (vllm installed, see ../shared/gpu/README.md)
    python bench/feedback_gpu.py run --prompts bench/results/feedback_prompts.json \
        --tokenizer /root/models/SmolLM2-135M-Instruct.Q4_1-bf16 --out "$OUT"
    # CPU smoke mode: the transformers phase with a tiny random Qwen2, a few tokens
    .venv/bin/python bench/feedback_gpu.py run --smoke --prompts FILE --tokenizer DIR

Speed is measured, as issue 4 asks, on VibeThinker-1.5B's architecture (a Qwen2 1.5B config
written by this script) with random weights (vLLM ``load_format="dummy"``, transformers
``from_config``) and fixed output lengths (vLLM ``ignore_eos``, transformers
``min_new_tokens``), so both engines generate exactly the same number of tokens. Prompts are the
real corpus prompts (``feedback.prompt.build_prompt`` over sandbox evidence, the same
code the product runs), tokenized with ``--tokenizer`` and fed as token ids. Prints tokens/s and
failing submissions explained per minute for each engine, their ratio, and the time for
``--submissions`` (300) failing submissions x ``--samples`` (8) x ``--max-tokens`` (1,024).
Each engine runs in its own process so the other's GPU memory is free. A figure, never a test.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# VibeThinker-1.5B is a fine-tuned Qwen2.5-Math-1.5B: this is its shape (weights are random).
QWEN2_1P5B: dict[str, Any] = {
    "architectures": ["Qwen2ForCausalLM"],
    "model_type": "qwen2",
    "hidden_size": 1536,
    "intermediate_size": 8960,
    "num_hidden_layers": 28,
    "num_attention_heads": 12,
    "num_key_value_heads": 2,
    "vocab_size": 151936,
    "max_position_embeddings": 32768,
    "rope_theta": 10000.0,
    "rms_norm_eps": 1e-6,
    "hidden_act": "silu",
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
    "bos_token_id": 151643,
    "eos_token_id": 151643,
}
# The smoke mode's model: same architecture, tiny, so a CPU runs it in seconds.
QWEN2_TINY = {
    **QWEN2_1P5B,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}


class BenchUnavailable(RuntimeError):
    """What this host lacks for the GPU bench, in a sentence."""


# --- CPU side: prompts from the corpus ------------------------------------------------------


def corpus_prompts(*, limit: int = 0, backend_name: str = "bubblewrap") -> list[dict[str, Any]]:
    """The prompt the product would send for every corpus variant: graded in the sandbox,
    evidence and suspicious lines built by ``grader.feedback`` and ``build_prompt``."""
    from feedback.evaluation import load_manifest, prepare_case, spread
    from feedback.prompt import build_prompt
    from sandbox import get_backend

    backend = get_backend(backend_name)
    prompts = []
    for variant in spread(load_manifest(), limit):
        case = prepare_case(variant, backend)
        prompt = build_prompt(
            assignment=case.job.assignment,
            code=case.job.code,
            evidence=case.job.evidence,
            suspicious=case.suspicious,
        )
        prompts.append({"variant": variant.name, "bug_line": variant.line, "prompt": prompt})
    return prompts


def token_prompts(texts: list[str], tokenizer_dir: str, vocab_size: int) -> list[list[int]]:
    """Chat-rendered prompts as token ids below ``vocab_size`` (the random model's vocabulary
    is Qwen2's; any real tokenizer gives realistic prompt lengths)."""
    from transformers import AutoTokenizer

    path = Path(tokenizer_dir)
    kwargs = {"gguf_file": path.name} if path.is_file() else {}
    tokenizer = AutoTokenizer.from_pretrained(
        str(path.parent if path.is_file() else path), **kwargs
    )
    ids = []
    for text in texts:
        messages = [{"role": "user", "content": text}]
        rendered = (
            str(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False))
            if tokenizer.chat_template
            else text
        )
        encoded = tokenizer(rendered, add_special_tokens=False).input_ids
        ids.append([t % vocab_size for t in encoded])
    return ids


def repeat_to(items: list[Any], count: int) -> list[Any]:
    """``count`` items cycling through ``items`` (300 submissions from a 30-variant corpus)."""
    if not items:
        raise ValueError("no prompts")
    return [items[i % len(items)] for i in range(count)]


def write_model_dir(config: dict[str, Any]) -> str:
    folder = tempfile.mkdtemp(prefix="qwen2-random-")
    Path(folder, "config.json").write_text(json.dumps(config, indent=2))
    return folder


def summarize(result: dict[str, Any], *, submissions: int, samples: int, tokens: int) -> dict:
    """Tokens/s, submissions/min and the projected time for the target workload."""
    seconds = result["seconds"]
    tps = result["new_tokens"] / seconds if seconds else 0.0
    per_min = 60 * result["prompts"] / seconds if seconds else 0.0
    target_tokens = submissions * samples * tokens
    return {
        **result,
        "tokens_per_s": round(tps, 1),
        "submissions_per_min": round(per_min, 1),
        "target_seconds": round(target_tokens / tps, 1) if tps else None,
    }


# --- GPU side -------------------------------------------------------------------------------


def require_gpu_and_vllm() -> None:
    if importlib.util.find_spec("vllm") is None:
        raise BenchUnavailable(
            "vllm is not installed here: run this on the GPU host (../shared/gpu/README.md), "
            "or use --smoke for the CPU smoke mode"
        )
    import torch

    if not torch.cuda.is_available():
        raise BenchUnavailable("no CUDA GPU is visible: run this on the GPU host, or use --smoke")


def phase_vllm(args: argparse.Namespace, ids: list[list[int]]) -> dict[str, Any]:
    if importlib.util.find_spec("flashinfer") is None:
        os.environ.setdefault("VLLM_USE_FLASHINFER_SAMPLER", "0")  # see the GPU recipe
    from vllm import LLM, SamplingParams

    started = time.perf_counter()
    llm = LLM(
        model=args.model_dir,
        load_format="dummy",  # random weights: the real ones cannot reach the GPU host
        skip_tokenizer_init=True,  # prompts come as token ids; outputs stay ids
        dtype="bfloat16",
        enable_prefix_caching=True,  # the K samples of a prompt share one prompt pass
        gpu_memory_utilization=args.gpu_mem,
        max_model_len=args.max_model_len,
        seed=0,
    )
    load_s = time.perf_counter() - started
    params = SamplingParams(
        n=args.samples,
        temperature=0.6,
        top_p=0.95,
        max_tokens=args.max_tokens,
        ignore_eos=True,  # fixed output length: same token count as transformers
        detokenize=False,
    )
    prompts = [{"prompt_token_ids": p} for p in repeat_to(ids, args.submissions)]
    llm.generate(prompts[:4], params, use_tqdm=False)  # warm-up (compile, graphs)
    started = time.perf_counter()
    outputs = llm.generate(prompts, params, use_tqdm=False)
    seconds = time.perf_counter() - started
    new_tokens = sum(len(c.token_ids) for o in outputs for c in o.outputs)
    return {
        "engine": "vllm",
        "load_s": round(load_s, 1),
        "prompts": len(prompts),
        "samples": args.samples,
        "new_tokens": new_tokens,
        "seconds": round(seconds, 3),
    }


def phase_hf(args: argparse.Namespace, ids: list[list[int]]) -> dict[str, Any]:
    """transformers ``generate(num_return_sequences=K)`` at each batch size; the best wins."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    device = "cpu" if args.smoke else "cuda"
    config = AutoConfig.from_pretrained(args.model_dir)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).to(device).eval()
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    pad = 0
    tried = []
    for batch in args.hf_batch_sizes:
        rows = repeat_to(ids, batch)
        width = max(len(r) for r in rows)
        input_ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=device)
        try:
            sync()
            started = time.perf_counter()
            with torch.inference_mode():
                out = model.generate(
                    input_ids=input_ids,
                    attention_mask=mask,
                    do_sample=True,
                    temperature=0.6,
                    top_p=0.95,
                    num_return_sequences=args.samples,
                    max_new_tokens=args.max_tokens,
                    min_new_tokens=args.max_tokens,  # fixed output length
                    pad_token_id=pad,
                )
            sync()
            seconds = time.perf_counter() - started
        except torch.cuda.OutOfMemoryError:
            tried.append({"batch": batch, "error": "out of memory"})
            torch.cuda.empty_cache()
            break
        new_tokens = (out.shape[1] - width) * out.shape[0]
        tried.append({"batch": batch, "prompts": batch, "new_tokens": int(new_tokens),
                      "seconds": round(seconds, 3)})  # fmt: skip
        print(f"[bench] transformers batch {batch}: {tried[-1]}", flush=True)
    measured = [t for t in tried if "seconds" in t]
    if not measured:
        raise BenchUnavailable("transformers ran out of memory at every batch size")
    best = max(measured, key=lambda t: t["new_tokens"] / t["seconds"])
    return {"engine": "transformers", "best_batch": best["batch"], "batches": tried,
            "prompts": best["prompts"], "samples": args.samples,
            "new_tokens": best["new_tokens"], "seconds": best["seconds"]}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    if not args.smoke:
        try:
            require_gpu_and_vllm()
        except BenchUnavailable as exc:
            print(f"feedback_gpu: cannot run: {exc}", file=sys.stderr)
            return 2
    if args.smoke:  # the code path, not a figure: a few tokens on a tiny model
        args.max_tokens = min(args.max_tokens, 8)
        args.samples = min(args.samples, 2)
        args.hf_batch_sizes = [b for b in args.hf_batch_sizes if b <= 2] or [1]
    data = json.loads(Path(args.prompts).read_text())
    config = QWEN2_TINY if args.smoke else QWEN2_1P5B
    args.model_dir = args.model_dir or write_model_dir(config)
    ids = token_prompts(
        [p["prompt"] for p in data["prompts"]], args.tokenizer, config["vocab_size"]
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.phase:  # a child: one engine, result to a file
        result = (phase_vllm if args.phase == "vllm" else phase_hf)(args, ids)
        (out / f"{args.phase}.json").write_text(json.dumps(result, indent=2))
        return 0
    phases = ["hf"] if args.smoke else ["vllm", "hf"]
    for phase in phases:
        argv = [sys.executable, __file__, *sys.argv[1:], "--phase", phase,
                "--model-dir", args.model_dir]  # fmt: skip
        rc = subprocess.run(argv, timeout=args.phase_timeout).returncode
        if rc != 0:
            print(f"feedback_gpu: the {phase} phase failed (exit {rc})", file=sys.stderr)
            return 1
    target = {"submissions": args.submissions, "samples": args.samples, "tokens": args.max_tokens}
    report: dict[str, Any] = {
        "mode": "smoke (CPU, tiny random Qwen2: no speed claim)" if args.smoke else "gpu",
        "prompt_tokens_mean": round(sum(map(len, ids)) / len(ids), 1),
        "target": target,
    }
    for phase in phases:
        report[phase] = summarize(json.loads((out / f"{phase}.json").read_text()), **target)
    if "vllm" in report:
        hf_tps = report["hf"]["tokens_per_s"]
        report["ratio_vllm_over_transformers"] = (
            round(report["vllm"]["tokens_per_s"] / hf_tps, 2) if hf_tps else None
        )
        # vLLM ran the target workload itself when --submissions is the target: measured.
        report["vllm_seconds_for_target"] = report["vllm"]["seconds"]
    (out / "feedback_gpu.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


def write_prompts(args: argparse.Namespace) -> int:
    prompts = corpus_prompts(limit=args.limit, backend_name=args.backend)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"prompts": prompts}, indent=2))
    print(f"wrote {len(prompts)} prompts to {args.out}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    pr = sub.add_parser("prompts", help="build the corpus prompts (needs the sandbox)")
    pr.add_argument("--out", default=str(ROOT / "bench/results/feedback_prompts.json"))
    pr.add_argument("--limit", type=int, default=0)
    pr.add_argument("--backend", default="bubblewrap")
    r = sub.add_parser("run", help="measure (GPU host, or --smoke on a CPU)")
    r.add_argument("--prompts", required=True, help="a file written by the prompts command")
    r.add_argument("--tokenizer", required=True, help="tokenizer folder or GGUF file")
    r.add_argument("--out", default="bench-feedback-gpu")
    r.add_argument("--submissions", type=int, default=300)
    r.add_argument("--samples", type=int, default=8)
    r.add_argument("--max-tokens", type=int, default=1024)
    r.add_argument("--hf-batch-sizes", type=lambda s: [int(x) for x in s.split(",")],
                   default=[1, 8, 32])  # fmt: skip
    r.add_argument("--gpu-mem", type=float, default=0.85)
    r.add_argument("--max-model-len", type=int, default=4096)
    r.add_argument("--phase-timeout", type=int, default=540)
    r.add_argument("--smoke", action="store_true", help="CPU, tiny random model, no vLLM")
    r.add_argument("--phase", choices=["vllm", "hf"], help=argparse.SUPPRESS)
    r.add_argument("--model-dir", default="", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return write_prompts(args) if args.command == "prompts" else run(args)


if __name__ == "__main__":
    sys.exit(main())
