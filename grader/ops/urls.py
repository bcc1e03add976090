from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from grader.ops import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
]
