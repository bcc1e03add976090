"""``type = "static"``: a rule over the student's Python source (``sandbox.static_checks``),
checked on this trusted side; nothing runs. Its rule's own keys sit beside ours in the entry."""

from __future__ import annotations

import time
from pathlib import Path, PurePosixPath
from typing import Any

from sandbox.outcome import TestOutcome
from sandbox.static_checks import RuleError, check_source, parse_rule
from sandbox.testtypes.base import (
    Context,
    PackageError,
    TestSpec,
    TestType,
    entry_name,
    expect,
    points_and_visibility,
    sanity,
)
from sandbox.types import Fault, Verdict


class StaticTests(TestType):
    name = "static"
    # Ours; every other key of the entry is the rule's (parse_rule checks them).
    keys = frozenset({"type", "name", "rule", "points", "visibility", "message", "sanity"})

    def parse(self, raw: dict[str, Any], index: int, root: Path, language: str) -> TestSpec:
        where = f"tests[{index}]"
        expect(language == "python", f'{where}: static tests need language = "python"')
        points, visibility = points_and_visibility(raw, where)
        message = raw.get("message", "")
        expect(isinstance(message, str), f"{where}.message must be a string")
        try:
            rule = parse_rule(
                raw.get("rule"), {k: v for k, v in raw.items() if k not in self.keys}, message
            )
        except RuleError as exc:
            raise PackageError(f"{where}: {exc}") from exc
        name = entry_name(raw, where, rule.title())
        return TestSpec(
            self.name, name.strip(), points, visibility, static=rule, sanity=sanity(raw, where),
        )

    def run(self, ctx: Context, spec: TestSpec) -> list[TestOutcome]:
        """Parse the submission file and check the rule. It reads the bytes the student
        uploaded, not the built workspace the sandbox could write."""
        assert spec.static is not None
        started = time.monotonic()
        fault: Fault | None = None
        own = frozenset(PurePosixPath(n).parts[0].removesuffix(".py") for n in ctx.files
                        if n.endswith(".py"))
        try:
            passed, output = check_source(
                spec.static, ctx.files.get(ctx.package.submission, b""),
                filename=ctx.package.submission, own_modules=own,
            )
        except Exception as exc:  # a bug in a rule is ours (a trusted step), never the student's
            verdict, output, fault = (
                Verdict.SANDBOX_ERROR, f"The static check crashed: {type(exc).__name__}: {exc}",
                Fault.HARNESS,
            )
        else:
            verdict = Verdict.PASSED if passed else Verdict.FAILED
        return [self.outcome(spec, verdict, output, wall_seconds=time.monotonic() - started,
                             fault=fault)]
