from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from grader.lms import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("lti/", include("grader.lms.lti.urls")),  # LTI 1.3 tool (grader/lms/lti)
    path(
        "webhooks/lms/<str:course_code>/submissions",
        views.inbound_submission,
        name="lms_inbound_submission",
    ),
    path(
        "lms/courses/<str:course_code>/deliveries/",
        views.delivery_list,
        name="lms_delivery_list",
    ),
    path(
        "lms/assignments/<int:pk>/deliveries/",
        views.assignment_deliveries,
        name="lms_assignment_deliveries",
    ),
    path("lms/lti-targets/<int:pk>/resend/", views.lti_target_resend, name="lti_target_resend"),
    path("assignments/<int:pk>/release/", views.assignment_release, name="assignment_release"),
    path(
        "lms/deliveries/<int:pk>/redeliver/",
        views.delivery_redeliver,
        name="lms_delivery_redeliver",
    ),
]
