#!/usr/bin/env bash
# One command to a working grader on http://127.0.0.1:8000 (PORT=... for another) with a demo course.
# Embedded default: SQLite file, bubblewrap sandbox, a real Celery worker on a file-system queue.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY=.venv/bin/python
$PY manage.py migrate --noinput -v 0
$PY manage.py seed_demo
$PY -c "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','grader.settings'); django.setup(); from grader.celery import ensure_broker_dirs; ensure_broker_dirs()"
mkdir -p var/log
# -B: the embedded worker also runs beat, i.e. the periodic sweeper (ops.sweep). It consumes the
# feedback queue too: explanations of failing uploads are checked in the same sandbox.
.venv/bin/celery -A grader worker -B -Q grading,batch,feedback --concurrency 2 --loglevel INFO >var/log/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM
echo "Worker log: var/log/worker.log. Open http://127.0.0.1:${PORT:-8000}/ (Ctrl-C stops everything)."
$PY manage.py runserver 127.0.0.1:${PORT:-8000} --noreload
