#!/usr/bin/env bash
# Make the Docker sandbox backend available on a machine with no engine and no registry:
# install Debian's docker.io and debootstrap if missing, start dockerd if it is not running,
# then build grader-sandbox:latest from a local rootfs. Needs root. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var/log
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >var/log/apt-docker.log 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >>var/log/apt-docker.log 2>&1; } \
    || { tail -20 var/log/apt-docker.log; exit 1; }
fi
if ! docker info >/dev/null 2>&1; then
  (setsid dockerd >var/log/dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { tail -20 var/log/dockerd.log; exit 1; }
fi
bash scripts/build-sandbox-image.sh
