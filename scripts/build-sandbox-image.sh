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
PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check --no-compile \
  --target var/build/sandbox-site-packages "$PYTEST_PIN" 2> >(grep -v "is ignored" >&2)
DOCKER_BUILDKIT=0 docker build -q -f docker/sandbox.Dockerfile --build-arg BASE="$BASE" -t "$IMAGE" . >/dev/null
echo "built $IMAGE"
