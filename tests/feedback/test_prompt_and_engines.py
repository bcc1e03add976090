"""Prompt building and the engine seam, without a real model."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from feedback.engines import EngineError, Sampling, get_engine
from feedback.prompt import TestEvidence, build_prompt, numbered_code


def test_prompt_has_numbered_code_evidence_and_ranked_lines_but_no_hidden_input():
    evidence = [
        TestEvidence("sample 1", passed=False, stdin="2 3\n", expected="5\n", actual="got 6"),
        TestEvidence("secret", passed=False, visible=False, stdin="SECRET-INPUT", expected="9"),
    ]
    prompt = build_prompt(
        assignment="Add two numbers.",
        code="a = 1\nb = 2\n",
        evidence=evidence,
        suspicious=[(2, 1.0), (1, 0.5)],
    )
    assert "1 | a = 1" in prompt and "2 | b = 2" in prompt
    assert "'2 3\\n'" in prompt and "got 6" in prompt
    assert "line 2 (1.00), line 1 (0.50)" in prompt
    assert "a hidden test (its name, input and output are not shown)" in prompt
    assert "SECRET-INPUT" not in prompt and "secret" not in prompt  # not even its name


def test_long_code_is_cut_around_the_most_suspicious_line():
    code = "\n".join(f"x{i} = {i}" for i in range(1, 301))
    shown = numbered_code(code, [200], max_lines=20)
    assert "200 | x200 = 200" in shown and "x1 = 1" not in shown and "lines above" in shown


def test_unknown_engine_and_missing_model_are_clear_errors():
    with pytest.raises(EngineError, match="unknown feedback engine"):
        get_engine("gpt-lol")
    engine = get_engine("transformers", "/nonexistent/model.gguf")
    with pytest.raises(EngineError, match="not found"):
        engine.generate(["hi"], 1, Sampling(max_new_tokens=4))


def test_vllm_engine_without_vllm_or_gpu_says_so():
    engine = get_engine("vllm", "/models/VibeThinker-1.5B")
    with pytest.raises(EngineError, match="vllm|GPU"):
        engine.generate(["hi"], 2, Sampling())


@contextlib.contextmanager
def chat_server(answer):
    """A stand-in OpenAI-compatible server: ``answer(body)`` gives the choices of each POST.
    Yields (base URL, the bodies it received)."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body)
            choices, tokens = answer(body)
            data = json.dumps({"choices": choices, "usage": {"completion_tokens": tokens}})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data.encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1", seen
    finally:
        server.shutdown()


def test_openai_engine_sends_n_samples_and_returns_them_in_order():
    def answer(body):
        prompt = body["messages"][0]["content"]
        return [{"message": {"content": f"{prompt}-{i}"}} for i in range(body["n"])], 7

    with chat_server(answer) as (url, seen):
        engine = get_engine("openai", "m", base_url=url)
        out = engine.generate(["p", "q"], 3, Sampling(temperature=0.6, max_new_tokens=9))
    assert out == [["p-0", "p-1", "p-2"], ["q-0", "q-1", "q-2"]]
    assert seen[0]["n"] == 3 and seen[0]["max_tokens"] == 9 and seen[0]["temperature"] == 0.6
    assert engine.stats.new_tokens == 14


def test_openai_engine_closes_a_thinking_sample_cut_by_the_budget_and_gets_its_verdict():
    def answer(body):
        if body.get("continue_final_message"):
            return [{"message": {"content": '{"line": 3}'}, "finish_reason": "stop"}], 5
        return [{"message": {"content": "<think>hmm " * 4}, "finish_reason": "length"},
                {"message": {"content": '<think>ok</think>{"line": 2}'},
                 "finish_reason": "stop"}], 5

    with chat_server(answer) as (url, seen):
        engine = get_engine("openai", "m", base_url=url)
        [texts] = engine.generate(["p"], 2, Sampling(max_new_tokens=40, thinking_budget=16))
    assert seen[0]["max_tokens"] == 16  # the thinking budget
    cont = seen[1]
    assert cont["continue_final_message"] and not cont["add_generation_prompt"]
    assert cont["messages"][-1]["content"].endswith("</think>\n") and cont["max_tokens"] == 40
    assert texts[0].endswith('</think>\n{"line": 3}') and texts[1].endswith('{"line": 2}')
    assert len(seen) == 2  # the sample that finished on its own is not continued
    assert engine.stats.new_tokens == 10


def test_a_feedback_worker_refuses_the_in_process_vllm_engine(settings):
    from grader.feedback.services import feedback_engine

    settings.FEEDBACK_ENGINE = "vllm"
    feedback_engine.cache_clear()
    try:
        with pytest.raises(EngineError, match="vllm serve"):
            feedback_engine()
    finally:
        feedback_engine.cache_clear()


def test_openai_engine_with_the_server_down_is_an_engine_error():
    engine = get_engine("openai", "m", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(EngineError, match="failed"):
        engine.generate(["p"], 1, Sampling())


@pytest.mark.gpu
def test_vllm_engine_generates_k_samples_on_a_gpu():
    pytest.importorskip("vllm", reason="vllm is only installed on GPU workers")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine")
    engine = get_engine("vllm")
    out = engine.generate(["Where is the bug?"], 2, Sampling(max_new_tokens=32))
    assert len(out) == 1 and len(out[0]) == 2
