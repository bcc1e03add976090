"""``manage.py seed_demo``: a demo course with a teacher, a student and the example assignments.

Idempotent: running it again resets the demo passwords and adds nothing twice.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from grader.courses.models import Course, Enrollment
from grader.courses.services import assignment_create_from_package, enrollment_set

EXAMPLES = Path(settings.BASE_DIR) / "examples" / "packages"
DEMO_USERS = [
    ("teacher", "teacher-demo", Enrollment.Role.TEACHER, "Ada", "Teacher"),
    ("ta", "ta-demo", Enrollment.Role.TA, "Tim", "Assistant"),
    ("student", "student-demo", Enrollment.Role.STUDENT, "Sam", "Student"),
    ("student2", "student2-demo", Enrollment.Role.STUDENT, "Kim", "Student"),
]


class Command(BaseCommand):
    help = "Create the demo course, users and assignments (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        course, created = Course.objects.get_or_create(
            code="CS101", defaults={"title": "Introduction to Programming"}
        )
        user_model = get_user_model()
        for username, password, role, first, last in DEMO_USERS:
            user, _ = user_model.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last}
            )
            user.set_password(password)
            user.save()
            enrollment_set(course=course, user=user, role=role)
        if created or not course.assignments.exists():
            due = timezone.now() + timedelta(days=7)
            for folder in sorted(EXAMPLES.iterdir()):
                assignment_create_from_package(
                    course=course, source=folder, max_attempts=10, due_at=due
                )
        self.stdout.write("Demo course CS101 is ready. Log in as:")
        for username, password, role, *_ in DEMO_USERS:
            self.stdout.write(f"  {role:<8} {username:<9} password: {password}")
