from __future__ import annotations

from django.urls import path

from grader.courses import views

urlpatterns = [
    path("", views.home, name="home"),
    path("courses/<int:pk>/", views.course_detail, name="course_detail"),
    path("courses/<int:pk>/assignments/new/", views.assignment_new, name="assignment_new"),
    path("assignments/<int:pk>/edit/", views.assignment_edit, name="assignment_edit"),
]
