"""Writes for courses and assignments."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from grader.courses.models import Assignment, Course, Enrollment, Extension
from grader.lib.errors import NotFound
from sandbox.harness.lint import check_package, describe
from sandbox.intake import IntakeError, extract_zip
from sandbox.package import PackageError, find_package_root, load_package


def _tree_sha256(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def package_store(*, source: Path) -> Path:
    """Copy a package folder (or a zip of one) into its content-addressed home under MEDIA_ROOT.

    Raises ``PackageError`` with a teacher-readable message for any malformed package.
    """
    with tempfile.TemporaryDirectory(prefix="import-") as tmp:
        staging = Path(tmp) / "pkg"
        if source.is_dir():
            load_package(source)  # validate before copying anything
            shutil.copytree(source, staging, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        else:
            staging.mkdir()
            try:
                with source.open("rb") as fh:
                    extract_zip(
                        fh,
                        staging,
                        max_files=2000,
                        max_total_bytes=settings.PACKAGE_MAX_UPLOAD_BYTES * 10,
                    )
            except IntakeError as exc:
                raise PackageError(str(exc)) from exc
            staging = find_package_root(staging)
        refused = check_package(load_package(staging))
        if refused:  # the teacher hears it now, not from every student's "could not be graded"
            raise PackageError(describe(refused))
        sha = _tree_sha256(staging)
        home = Path(settings.MEDIA_ROOT) / "packages" / sha
        if not home.exists():
            home.parent.mkdir(parents=True, exist_ok=True)
            partial = home.with_name(sha + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            shutil.copytree(staging, partial)
            partial.rename(home)  # atomic: a half-copied package is never used
        return home


@transaction.atomic
def assignment_create_from_package(
    *,
    course: Course,
    source: Path,
    max_attempts: int | None = None,
    due_at: datetime | None = None,
    **settings_fields: Any,
) -> Assignment:
    """Validate and store an assignment package, then create the assignment that grades with it.

    ``settings_fields`` are further Assignment fields (late penalty, cooldown, published). A
    package with a ``solution/`` folder gets its reference check queued (after commit).
    """
    home = package_store(source=source)
    package = load_package(home)
    assignment = Assignment.objects.create(
        course=course,
        title=package.title,
        description=package.description,
        language=package.language,
        submission_filename=package.submission,
        package_path=str(home),
        package_sha256=home.name,
        max_attempts=max_attempts,
        due_at=due_at,
        **settings_fields,
    )
    assignment_reference_check_request(assignment=assignment)
    return assignment


@transaction.atomic
def assignment_package_replace(*, assignment: Assignment, source: Path) -> Assignment:
    """Grade with a new version of the package from now on (title and description follow it).

    The language and the submission file must stay: stored submissions were made for them
    (``PackageError`` otherwise, like any bad package). Graded submissions keep their results
    until a regrade (dashboard) grades them with the new package. The new package's reference
    solution, if any, is checked again; the old package's folder stays, so old results remain
    explainable.
    """
    home = package_store(source=source)
    package = load_package(home)
    if package.language != assignment.language:
        raise PackageError(
            f"the new package is for {package.language}; this assignment is {assignment.language}"
        )
    if package.submission != assignment.submission_filename:
        raise PackageError(
            f"the new package grades {package.submission}; students of this assignment submit "
            f"{assignment.submission_filename}: keep the name, or create a new assignment"
        )
    assignment.title = package.title
    assignment.description = package.description
    assignment.package_path = str(home)
    assignment.package_sha256 = home.name
    assignment.save(update_fields=["title", "description", "package_path", "package_sha256"])
    assignment_reference_check_request(assignment=assignment)
    return assignment


def assignment_reference_check_request(*, assignment: Assignment) -> None:
    """Queue the check of the package's reference solution (``solution/``) after commit: graded
    twice in a grading worker's sandbox, the result stored on the assignment for staff. Without
    a solution/ folder the status is cleared."""
    has_solution = load_package(Path(assignment.package_path)).solution_dir is not None
    if not has_solution and assignment.reference_status == Assignment.ReferenceStatus.NONE:
        return
    assignment.reference_status = (
        Assignment.ReferenceStatus.PENDING if has_solution else Assignment.ReferenceStatus.NONE
    )
    assignment.reference_result = None
    assignment.reference_requested_at = timezone.now() if has_solution else None
    assignment.save(
        update_fields=["reference_status", "reference_result", "reference_requested_at"]
    )
    if has_solution:
        from grader.grading.tasks import enqueue_reference_check  # grading imports courses

        transaction.on_commit(
            partial(enqueue_reference_check, assignment.pk, assignment.package_sha256)
        )


@contextlib.contextmanager
def _saved(upload: Any) -> Iterator[Path]:
    """A Django UploadedFile written to a temporary file, for the package readers."""
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        path = Path(tmp) / "package.zip"
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        yield path


def assignment_create_from_upload(*, course: Course, upload: Any, **fields: Any) -> Assignment:
    """An uploaded package zip (Django UploadedFile) → a new assignment. PackageError if bad."""
    with _saved(upload) as path:
        return assignment_create_from_package(course=course, source=path, **fields)


def assignment_package_replace_from_upload(*, assignment: Assignment, upload: Any) -> Assignment:
    """An uploaded package zip replaces the assignment's package. PackageError if bad."""
    with _saved(upload) as path:
        return assignment_package_replace(assignment=assignment, source=path)


def extension_set(*, assignment: Assignment, username: str, due_at: datetime) -> Extension:
    """Give an enrolled student a later deadline. ``NotFound`` for a name not in the course."""
    enrollment = (
        Enrollment.objects.filter(course=assignment.course, user__username=username)
        .select_related("user")
        .first()
    )
    if enrollment is None:
        raise NotFound(f"No student called {username!r} in {assignment.course.code}.")
    extension, _ = Extension.objects.update_or_create(
        assignment=assignment, student=enrollment.user, defaults={"due_at": due_at}
    )
    return extension


def enrollment_set(*, course: Course, user: Any, role: str) -> Enrollment:
    enrollment, _ = Enrollment.objects.update_or_create(
        course=course, user=user, defaults={"role": role}
    )
    return enrollment
