from __future__ import annotations

from django.urls import URLPattern, path

from grader.lms.lti import views

urlpatterns: list[URLPattern] = [
    path("login/", views.lti_login, name="lti_login"),
    path("launch/", views.lti_launch, name="lti_launch"),
    path("deep-link/", views.lti_deep_link_respond, name="lti_deep_link_respond"),
    path("jwks/", views.lti_jwks, name="lti_jwks"),
    path("courses/<int:pk>/roster-sync/", views.lti_roster_sync_view, name="lti_roster_sync"),
]
