# The web and grading-worker image (production). Student code never runs in this image: the
# worker starts sandbox containers from grader-sandbox (docker/sandbox.Dockerfile) through the
# Docker socket, or uses bubblewrap when SANDBOX_BACKEND=bubblewrap.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 GRADER_DATA_DIR=/data
RUN apt-get update && apt-get install -y --no-install-recommends \
        gcc g++ default-jdk-headless bubblewrap \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY grader grader
COPY sandbox sandbox
COPY feedback feedback
# The Docker SDK for the workers' sandbox backend; no torch: the default feedback path needs no
# model (the checked repair search), and GPU hosts serve the model with `vllm serve`.
RUN pip install --no-cache-dir '.[docker]'
COPY manage.py ./
COPY templates templates
COPY static static
COPY examples examples
RUN python manage.py collectstatic --noinput -v 0
EXPOSE 8000
CMD ["gunicorn", "grader.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
