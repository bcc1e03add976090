"""Operations endpoints: /healthz for load balancers, /metrics for Prometheus; both only for
OPS_ALLOWED_IPS or with OPS_TOKEN (grader/ops/access.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from grader.ops.access import ops_only
from grader.ops.health import run_checks
from grader.ops.metrics import GraderCollector


@require_GET
@ops_only
def healthz(request: HttpRequest) -> HttpResponse:
    checks = run_checks()
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse({"ok": ok, "checks": checks}, status=200 if ok else 503)


@require_GET
@ops_only
def metrics(request: HttpRequest) -> HttpResponse:
    registry = CollectorRegistry()
    registry.register(GraderCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
