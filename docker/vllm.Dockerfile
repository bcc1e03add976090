# The model server of the `gpu` profile: `vllm serve` (OpenAI-compatible API, continuous
# batching). No grader code: feedback workers are thin HTTP clients of it. vLLM 0.26.0 pins
# torch 2.11.0 (CUDA 13 build); the model folder is mounted at /models.
FROM nvidia/cuda:13.0.0-runtime-ubuntu24.04
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-pip python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /venv
ENV PATH=/venv/bin:$PATH
RUN pip install --no-cache-dir torch==2.11.0 vllm==0.26.0
EXPOSE 8001
