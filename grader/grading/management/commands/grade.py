"""``manage.py grade PACKAGE SUBMISSION [--json]``: grade without any server.

SUBMISSION is a file, several files, a folder or a zip. Prints a Gradescope-style results.json
(``--json``) or a readable table. Exits 0 whenever grading happened, whatever the score; 2 for
bad input (with the reason); 3 when the sandbox itself failed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from sandbox import SandboxError, get_backend
from sandbox.grade import grade
from sandbox.intake import IntakeError, normalize_submission
from sandbox.package import LANGUAGE_EXTENSIONS, PackageError, open_package


def _read_uploads(paths: list[Path]) -> list[tuple[str, bytes]]:
    uploads: list[tuple[str, bytes]] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                uploads.append((str(child.relative_to(path)), child.read_bytes()))
        elif path.is_file():
            uploads.append((path.name, path.read_bytes()))
        else:
            raise IntakeError(f"no such file: {path}")
    return uploads


class Command(BaseCommand):
    help = "Grade a submission against an assignment package (folder or zip), no server needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("package", type=Path, help="assignment folder or zip")
        parser.add_argument(
            "submission", type=Path, nargs="+", help="the student's file(s), a folder or a zip"
        )
        parser.add_argument("--json", action="store_true", help="print results.json")
        parser.add_argument(
            "--backend", default=settings.SANDBOX_BACKEND, choices=["bubblewrap", "docker"]
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with open_package(options["package"]) as package:
                uploads = _read_uploads(options["submission"])
                submission = normalize_submission(
                    uploads,
                    submission=package.submission,
                    extensions=LANGUAGE_EXTENSIONS[package.language],
                )
                report = grade(package, submission.files, get_backend(options["backend"]))
        except (PackageError, IntakeError) as exc:
            self.stderr.write(f"error: {exc}")
            sys.exit(2)
        except SandboxError as exc:
            self.stderr.write(f"sandbox error (not the submission's fault): {exc}")
            sys.exit(3)
        report.notes.extend(submission.notes)
        result = report.to_results_json()
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            return
        for note in report.notes:
            self.stdout.write(f"note: {note}")
        if not report.gradable:
            self.stdout.write("compile error (attempt not counted):\n" + report.compile_output)
        for t in result["tests"]:
            self.stdout.write(
                f"{t['verdict']:>14}  {t['score']:g}/{t['max_score']:g}  {t['name']}"
                f"  [{t['visibility']}]"
            )
            if t["output"] and t["verdict"] != "compile_error":
                self.stdout.write(
                    "                " + t["output"].replace("\n", "\n                ")
                )
        self.stdout.write(f"score: {result['score']:g} / {result['max_score']:g}")
