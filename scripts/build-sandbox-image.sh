#!/usr/bin/env bash
# Build grader-sandbox:latest with no image registry: a Debian rootfs from debootstrap, imported
# as a base image, then docker/sandbox.Dockerfile on top (about a minute the first time).
# Needs root, debootstrap and a running Docker engine. Re-running reuses what exists.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${SANDBOX_DOCKER_IMAGE:-grader-sandbox:latest}
BASE=grader-debian-base:bookworm
ROOTFS=var/build/rootfs
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PYTEST_PIN=$(grep -o '"pytest==[^"]*"' pyproject.toml | tr -d '"')
# pip for the image's site-packages: the project's venv (setup.sh made it; a fresh Debian's
# python3 often has no pip module), else python3.
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON; elif [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
# A brand-new machine has no var/ yet: debootstrap's log and the pip target live here.
mkdir -p var/build

if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  if [ ! -x "$ROOTFS/usr/bin/javac" ]; then
    rm -rf "$ROOTFS"
    debootstrap --variant=minbase \
      --include=python3,gcc,g++,libc6-dev,default-jdk-headless,util-linux \
      bookworm "$ROOTFS" "$MIRROR" >var/build/debootstrap.log 2>&1 \
      || { tail -20 var/build/debootstrap.log; exit 1; }
  fi
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb
  tar -C "$ROOTFS" -c . | docker import - "$BASE" >/dev/null
fi
rm -rf var/build/sandbox-site-packages
PIP_ROOT_USER_ACTION=ignore "$PY" -m pip install -q --disable-pip-version-check --no-compile \
  --target var/build/sandbox-site-packages "$PYTEST_PIN" 2> >(grep -v "is ignored" >&2)
DOCKER_BUILDKIT=0 docker build -q -f docker/sandbox.Dockerfile --build-arg BASE="$BASE" -t "$IMAGE" . >/dev/null
echo "built $IMAGE"
