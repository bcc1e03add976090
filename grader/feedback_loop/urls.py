from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from grader.feedback_loop import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("submissions/<int:pk>/flag/", views.flag_create, name="flag_create"),
    path("submissions/<int:pk>/regrade-request/", views.regrade_request_create,
         name="regrade_request_create"),
    path("regrade-requests/<int:pk>/", views.regrade_request_detail, name="regrade_request"),
    path("regrade-requests/<int:pk>/resolve/", views.regrade_request_resolve,
         name="regrade_request_resolve"),
    path("flags/<int:pk>/resolve/", views.flag_resolve, name="flag_resolve"),
    path("courses/<int:pk>/flags-and-requests/", views.course_queue, name="course_queue"),
    path("courses/<int:pk>/comments/", views.comment_list, name="comment_list"),
    path("courses/<int:pk>/comments/<int:comment_id>/", views.comment_edit, name="comment_edit"),
    path("courses/<int:pk>/review/<int:feedback_id>/use-comment/<int:comment_id>/",
         views.comment_use, name="comment_use"),
]
