from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from grader.feedback import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("courses/<int:pk>/review/", views.review_queue, name="review_queue"),
    path(
        "courses/<int:pk>/review/bulk-approve/",
        views.review_bulk_approve,
        name="review_bulk_approve",
    ),
    path("courses/<int:pk>/review/<int:feedback_id>/", views.review_action, name="review_action"),
]
