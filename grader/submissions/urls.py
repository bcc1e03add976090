from __future__ import annotations

from django.urls import path

from grader.submissions import views

urlpatterns = [
    path("assignments/<int:pk>/", views.assignment_detail, name="assignment_detail"),
    path(
        "assignments/<int:pk>/submissions/",
        views.assignment_submissions,
        name="assignment_submissions",
    ),
    path(
        "assignments/<int:pk>/grades.csv", views.assignment_grades_csv, name="assignment_grades_csv"
    ),
    path("assignments/<int:pk>/regrade/", views.assignment_regrade, name="assignment_regrade"),
    path("submissions/<int:pk>/", views.submission_detail, name="submission_detail"),
    path("submissions/<int:pk>/status/", views.submission_status, name="submission_status"),
]
