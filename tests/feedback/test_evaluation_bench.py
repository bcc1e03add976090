"""bench/feedback_gpu.py: its CPU side (the corpus prompts, the arithmetic) and its refusal
to run without a GPU. The GPU measurement itself is a figure, never a test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location(
        "feedback_gpu", ROOT / "bench" / "feedback_gpu.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["feedback_gpu"] = module
    spec.loader.exec_module(module)
    return module


def test_the_target_workload_is_projected_from_the_measured_rate() -> None:
    bench = _bench()
    figures = bench.summarize(
        {"prompts": 30, "new_tokens": 30 * 8 * 1024, "seconds": 12.0},
        submissions=300, samples=8, tokens=1024,
    )  # fmt: skip
    assert figures["tokens_per_s"] == pytest.approx(20480.0)
    assert figures["submissions_per_min"] == pytest.approx(150.0)
    assert figures["target_seconds"] == pytest.approx(120.0)
    assert bench.repeat_to([1, 2, 3], 7) == [1, 2, 3, 1, 2, 3, 1]


@pytest.mark.skipif(
    importlib.util.find_spec("vllm") is not None, reason="vllm is installed: the bench would run"
)
def test_the_bench_refuses_to_run_without_vllm_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = _bench().main(
        ["run", "--prompts", "none.json", "--tokenizer", "x", "--out", str(tmp_path)]
    )
    assert rc == 2
    assert "vllm is not installed" in capsys.readouterr().err


@pytest.mark.sandbox
def test_the_bench_prompts_are_the_product_prompts_for_the_corpus_variants() -> None:
    prompts = _bench().corpus_prompts(limit=2)
    assert [p["variant"] for p in prompts] == [
        "sum_list/01_off_by_one.py",
        "largest/01_wrong_condition.py",
    ]
    first = prompts[0]["prompt"]
    assert "3 |     for n in numbers[1:]:" in first  # the numbered student code
    assert "input: '1 2 3\\n'" in first and "expected output: '6\\n'" in first  # failing test
    assert "Suspicious lines (fault localization" in first
    assert '{"line": <line number>' in first  # the product's answer format
