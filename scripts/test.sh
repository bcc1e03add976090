#!/usr/bin/env bash
# Set up and run every check: ruff, mypy, the test suite on Postgres + Redis, then again on the
# embedded default (SQLite + file-system queue). `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
# Tests keep their SQLite file, queue folder and packages apart from the demo's.
export GRADER_DATA_DIR=${GRADER_DATA_DIR:-$PWD/var/test}

# The machines run Postgres and Redis; start them if they are down.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  command -v pg_ctlcluster >/dev/null && pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null && redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
fi

# CI runs the Docker backend for real: engine and image are set up here (about 2 minutes the
# first time). Elsewhere, WITH_DOCKER=1 does the same; without it Docker tests skip with a reason.
if [ "${CI:-}" = "true" ] || [ "${WITH_DOCKER:-}" = "1" ]; then
  echo "== docker sandbox image"; bash scripts/ci-docker.sh
fi
# Browser tests drive Debian's chromium (Playwright never downloads a browser here).
if ! command -v chromium >/dev/null && { [ "${CI:-}" = "true" ] || [ "${WITH_BROWSER:-}" = "1" ]; }; then
  echo "== chromium"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
fi

echo "== ruff"; ruff check .
echo "== mypy"; mypy grader sandbox feedback
echo "== pytest (Postgres + Redis)"
DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/grader} \
REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15} \
  pytest --durations=25 "$@"  # the slowest tests: where CI's time goes
echo "== pytest (embedded default: SQLite + file-system queue; sandbox-only tests already ran)"
env -u DATABASE_URL -u REDIS_URL pytest -m "not sandbox" "$@"
