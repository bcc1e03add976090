"""``manage.py evaluate_feedback``: top-1 line accuracy and run-to-run agreement on the corpus.

Compares fault localization alone, one model sample and K voted samples (see
``feedback.evaluation``). ``--sbfl-only`` needs no model: fast and deterministic.
Exits 2 for a bad corpus or argument, 3 when the sandbox or the engine cannot run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from feedback.engines import ENGINES, EngineError, Sampling, get_engine
from feedback.evaluation import (
    DEFAULT_MANIFEST,
    CorpusError,
    Evaluation,
    evaluate,
    load_manifest,
    spread,
)
from feedback.validation import Budget
from grader.lib.sandbox import backend_options
from sandbox import SandboxError, get_backend
from sandbox.backends import ALIASES as BACKEND_ALIASES
from sandbox.backends import BACKENDS


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


class Command(BaseCommand):
    help = "Evaluate feedback line localization on the shipped corpus of buggy programs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
        parser.add_argument(
            "--limit", type=int, default=0, help="N variants, round-robin across packages (0: all)"
        )
        parser.add_argument("--samples", type=int, default=settings.FEEDBACK_SAMPLES)
        parser.add_argument("--max-new-tokens", type=int, default=settings.FEEDBACK_MAX_NEW_TOKENS)
        parser.add_argument("--temperature", type=float, default=Sampling.temperature)
        parser.add_argument("--runs", type=int, default=2, help="runs, for run-to-run agreement")
        parser.add_argument("--engine", default=settings.FEEDBACK_ENGINE, choices=ENGINES)
        parser.add_argument("--model", default=settings.FEEDBACK_MODEL)
        parser.add_argument(
            "--no-model", "--sbfl-only", dest="no_model", action="store_true",
            help="no model: SBFL and the checked repair search only (the CPU default)",
        )
        parser.add_argument(
            "--backend", default=settings.SANDBOX_BACKEND, choices=[*BACKENDS, *BACKEND_ALIASES]
        )
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["samples"] < 0 or options["runs"] < 1 or options["max_new_tokens"] < 1:
            self.stderr.write("error: --runs and --max-new-tokens must be >= 1, --samples >= 0")
            sys.exit(2)
        try:
            variants = load_manifest(options["manifest"])
        except CorpusError as exc:
            self.stderr.write(f"error: {exc}")
            sys.exit(2)
        variants = spread(variants, options["limit"])
        engine = None
        if not options["no_model"] and options["samples"] > 0:
            try:
                engine = get_engine(
                    options["engine"],
                    options["model"],
                    base_url=settings.FEEDBACK_OPENAI_BASE_URL,
                    api_key=settings.FEEDBACK_OPENAI_API_KEY,
                )
            except EngineError as exc:
                self.stderr.write(f"error: {exc} (--no-model needs none)")
                sys.exit(3)
        sampling = Sampling(
            temperature=options["temperature"], max_new_tokens=options["max_new_tokens"]
        )
        steps = len(variants) * (1 + options["runs"])
        # The bar goes to stderr so that --json output stays parseable.
        console = Console(stderr=True)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        try:
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task("evaluating", total=steps)
                result = evaluate(
                    variants,
                    backend=get_backend(options["backend"], **backend_options(options["backend"])),
                    engine=engine,
                    samples=options["samples"],
                    runs=options["runs"],
                    sampling=sampling,
                    progress=lambda text: self._step(bar, task, text, console),
                    budget=Budget(max_candidates=settings.FEEDBACK_REPAIR_MAX_CANDIDATES,
                                  seconds=settings.FEEDBACK_REPAIR_SECONDS),
                )
        except (SandboxError, EngineError) as exc:
            self.stderr.write(f"error: {exc}")
            sys.exit(3)
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json(), indent=2))
        else:
            self._table(result)

    def _step(self, bar: Progress, task: TaskID, text: str, console: Console) -> None:
        bar.update(task, advance=1, description=text)
        if not console.is_terminal:  # a log file or a pipe: no bar is drawn, so say each step
            done = int(bar.tasks[0].completed)
            console.print(f"[{done}/{bar.tasks[0].total:g}] {text}", highlight=False)

    def _table(self, result: Evaluation) -> None:
        table = Table(
            title=(
                f"Feedback evaluation: {len(result.cases)} variants, {result.runs} run(s), "
                f"K={result.samples}, max {result.max_new_tokens} new tokens, "
                f"engine {result.engine}"
            )
        )
        for column in ("method", "top-1", "coverage", "precision", "run-to-run",
                       "same outcome", "leaks", "s/submission"):
            table.add_column(column)

        def num(value: float | None) -> str:
            return "—" if value is None else f"{value:.1f}"

        for row in result.rows():
            table.add_row(
                row["label"],
                _pct(row["top1_line"]),
                _pct(row["coverage"]),
                _pct(row["precision"]),
                _pct(row["run_agreement"]),
                _pct(row["same_outcome"]),
                _pct(row["leak_rate"]),
                num(row["seconds_per_submission"]),
            )
        console = Console(file=self.stdout, width=120)  # type: ignore[arg-type]
        console.print(table)
        self.stdout.write(
            f"grading + traced runs: {result.prepare_seconds:.1f} s; "
            f"generation: {result.tokens_per_second:.1f} new tokens/s"
        )
