"""``manage.py grade PACKAGE SUBMISSION [--json] [--feedback [--samples K]]``: grade, no server.

SUBMISSION is a file, several files, a folder or a zip. Prints a Gradescope-style results.json
(``--json``) or a readable table. Exits 0 whenever grading happened, whatever the score; 2 for
bad input (with the reason); 3 when the sandbox itself failed; 4 when the submission could not
be graded because the package or the harness failed (``ungradable`` in the JSON says why).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from grader.lib.sandbox import backend_options
from grader.lib.text import terminal_safe
from sandbox import Backend, SandboxError, get_backend
from sandbox.backends import ALIASES as BACKEND_ALIASES
from sandbox.backends import BACKENDS
from sandbox.grade import GradeReport, grade
from sandbox.intake import IntakeError, normalize_submission
from sandbox.package import LANGUAGE_EXTENSIONS, AssignmentPackage, PackageError, open_package


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
            "--backend", default=settings.SANDBOX_BACKEND, choices=[*BACKENDS, *BACKEND_ALIASES]
        )
        parser.add_argument(
            "--feedback",
            action="store_true",
            help="explain failing tests with the feedback model (adds 'feedback' to the JSON)",
        )
        parser.add_argument("--samples", type=int, default=settings.FEEDBACK_SAMPLES)
        parser.add_argument("--max-new-tokens", type=int, default=settings.FEEDBACK_MAX_NEW_TOKENS)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with open_package(options["package"]) as package:
                uploads = _read_uploads(options["submission"])
                submission = normalize_submission(
                    uploads,
                    submission=package.submission,
                    extensions=LANGUAGE_EXTENSIONS[package.language],
                )
                backend = get_backend(options["backend"], **backend_options(options["backend"]))
                report = grade(package, submission.files, backend)
                feedback = (
                    self._feedback(package, submission.files, report, backend, options)
                    if options["feedback"]
                    else None
                )
        except (PackageError, IntakeError) as exc:
            self.stderr.write(terminal_safe(f"error: {exc}"))
            sys.exit(2)
        except SandboxError as exc:
            self.stderr.write(terminal_safe(f"sandbox error (not the submission's fault): {exc}"))
            sys.exit(3)
        report.notes.extend(submission.notes)
        result = report.to_results_json()
        if feedback is not None:
            result.update(feedback)
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
            if report.ungradable:
                sys.exit(4)
            return
        for note in report.notes:
            self._say(f"note: {note}")
        if not report.gradable:
            self._say("compile error (attempt not counted):\n" + report.compile_output)
        for t in result["tests"]:
            self._say(
                f"{t['verdict']:>14}  {t['score']:g}/{t['max_score']:g}  {t['name']}"
                f"  [{t['visibility']}]"
            )
            if t["output"] and t["verdict"] != "compile_error":
                self._say(
                    "                " + t["output"].replace("\n", "\n                ")
                )
        if report.ungradable:
            self._say(f"could not be graded ({report.ungradable.fault}): {report.ungradable.cause}")
            sys.exit(4)
        self._say(f"score: {result['score']:g} / {result['max_score']:g}")
        for item in result.get("feedback", []):
            self._say(
                f"feedback: line {item['line']} ({item['category']}, {item['verification']}, "
                f"{item['agreement']} validated votes)\n  {item['explanation']}"
                f"\n  hint: {item['hint']}\n  repair checked in the sandbox (staff only): "
                f"{item['repair'] or '-'}"
            )
        if result.get("feedback_error"):
            self._say(f"feedback unavailable: {result['feedback_error']}")

    def _say(self, text: str) -> None:
        """One line of the table. Student output can hold escape sequences, carriage returns
        and bidi overrides that rewrite the teacher's terminal: show them as escapes instead
        (``--json`` stays exact: JSON already escapes control characters)."""
        self.stdout.write(terminal_safe(text))

    def _feedback(
        self,
        package: AssignmentPackage,
        files: dict[str, bytes],
        report: GradeReport,
        backend: Backend,
        options: dict[str, Any],
    ) -> dict[str, Any]:
        """Feedback never changes the score, and an engine failure never fails the grade.
        Candidate repairs are checked in ``backend``, as the feedback worker does."""
        from feedback.engines import EngineError, Sampling, get_engine
        from feedback.pipeline import evidence_from_outcomes, explain_batch, sandbox_job
        from feedback.validation import Budget
        from sandbox.evidence import collect_traces

        if not report.gradable or report.ungradable or all(t.passed for t in report.tests):
            return {"feedback": []}
        evidence = evidence_from_outcomes(
            package, report.tests, collect_traces(backend, package, files)
        )
        job = sandbox_job(
            backend=backend, package=package, files=files, assignment=package.description,
            evidence=evidence,
            budget=Budget(max_candidates=settings.FEEDBACK_REPAIR_MAX_CANDIDATES,
                          seconds=settings.FEEDBACK_REPAIR_SECONDS),
        )
        samples = max(0, options["samples"])
        try:
            engine = get_engine(
                settings.FEEDBACK_ENGINE,
                settings.FEEDBACK_MODEL,
                base_url=settings.FEEDBACK_OPENAI_BASE_URL,
                api_key=settings.FEEDBACK_OPENAI_API_KEY,
            ) if samples else None
            [explanation] = explain_batch(
                [job],
                engine=engine,
                samples=samples,
                sampling=Sampling(max_new_tokens=max(1, options["max_new_tokens"]),
                                  thinking_budget=settings.FEEDBACK_THINKING_BUDGET),
                search=settings.FEEDBACK_SEARCH,
            )
        except EngineError as exc:
            self.stderr.write(f"feedback unavailable: {exc}")
            return {"feedback": [], "feedback_error": str(exc)}
        return {"feedback": [explanation.as_json()]}
