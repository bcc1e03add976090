# The image student code runs in (Docker sandbox backend). Production builds it from Debian:
#   docker build -f docker/sandbox.Dockerfile -t grader-sandbox:latest .
# Machines without a registry build the same image on a local Debian rootfs instead:
#   bash scripts/build-sandbox-image.sh   (debootstrap → docker import → this file with BASE=...)
ARG BASE=debian:bookworm-slim
FROM ${BASE}
# Compilers and runtimes for python, c, cpp, java; util-linux gives prlimit for per-run rlimits.
RUN if ! command -v javac >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends \
        python3 gcc g++ libc6-dev default-jdk-headless util-linux && \
      rm -rf /var/lib/apt/lists/*; \
    fi
# pytest for the trusted side of the test harness (teacher tests), same pin as pyproject.toml.
COPY var/build/sandbox-site-packages/ /usr/local/lib/python3.11/dist-packages/
RUN mkdir -p /work && chmod 1777 /work
ENV LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1
USER 65534:65534
WORKDIR /work
CMD ["sleep", "infinity"]
