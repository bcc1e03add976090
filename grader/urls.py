from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("grader.ops.urls")),
    path("", include("grader.api.urls")),
    path("", include("grader.lms.urls")),
    path("", include("grader.feedback.urls")),
    path("", include("grader.feedback_loop.urls")),
    path("", include("grader.courses.urls")),
    path("", include("grader.submissions.urls")),
]
