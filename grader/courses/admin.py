from __future__ import annotations

from django.contrib import admin

from grader.courses.models import Assignment, Course, Enrollment

admin.site.register(Course)
admin.site.register(Enrollment)
admin.site.register(Assignment)
