"""manage.py regrade ASSIGNMENT_ID [--latest] [--wait]: grade an assignment's submissions again
on the ``batch`` queue (after a fix to its tests), with a progress bar."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from grader.courses.models import Assignment
from grader.grading.services import RegradeScope, submission_regrade
from grader.submissions.models import Submission


class Command(BaseCommand):
    help = "Queue an assignment's graded submissions for grading again (batch queue)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("assignment_id", type=int)
        parser.add_argument(
            "--latest", action="store_true", help="only each student's latest attempt"
        )
        parser.add_argument(
            "--wait", action="store_true", help="follow the workers until every one is graded"
        )
        parser.add_argument("--timeout", type=float, default=3600, help="--wait gives up after")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            assignment = Assignment.objects.get(pk=options["assignment_id"])
        except Assignment.DoesNotExist:
            raise CommandError(f"no assignment with id {options['assignment_id']}") from None
        scope = RegradeScope.LATEST_PER_STUDENT if options["latest"] else RegradeScope.ALL
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=None, transient=False) as progress:
            bar = progress.add_task("queueing", total=None)
            ids = submission_regrade(
                assignment=assignment,
                scope=scope,
                progress=lambda n: progress.update(bar, completed=n, total=max(n, 1)),
            )
            progress.update(bar, total=len(ids), completed=len(ids))
            if options["wait"] and ids:
                done_bar = progress.add_task("grading", total=len(ids))
                deadline = time.monotonic() + options["timeout"]
                while True:
                    done = Submission.objects.filter(
                        id__in=ids, status__in=Submission.FINAL_STATUSES
                    ).count()
                    progress.update(done_bar, completed=done)
                    if done == len(ids):
                        break
                    if time.monotonic() > deadline:
                        raise CommandError(f"{len(ids) - done} still not graded after timeout")
                    time.sleep(0.5)
        self.stdout.write(f"{len(ids)} submission(s) of '{assignment.title}' queued ({scope}).")
