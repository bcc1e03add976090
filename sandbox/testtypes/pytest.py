"""``type = "pytest"``: a teacher's pytest file under ``tests/``, run against the student module
by the tamper-proof harness (``sandbox.harness``). One spec gives one outcome per test case.

Feedback traces it through the harness's own tracer (``Evidence``) and checks candidate repairs
with one trusted run per test file for every variant (``run_pytest_plan``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sandbox.harness import Evidence, run_pytest_file, run_pytest_plan
from sandbox.outcome import TestOutcome
from sandbox.testtypes.base import (
    Context,
    Probe,
    TestKey,
    TestSpec,
    TestType,
    Trace,
    Variants,
    expect,
    fresh_copy,
    known_keys,
    points_and_visibility,
    safe_relative,
    sanity,
)
from sandbox.types import Verdict


class PytestTests(TestType):
    name = "pytest"
    keys = frozenset({"type", "file", "points", "visibility", "name", "sanity"})
    traced = True
    uses_harness = True

    def parse(self, raw: dict[str, Any], index: int, root: Path, language: str) -> TestSpec:
        where = f"tests[{index}]"
        known_keys(raw, where, self.keys)
        points, visibility = points_and_visibility(raw, where)
        expect(language == "python", f'{where}: pytest tests need language = "python"')
        file: Any = raw.get("file")
        expect(isinstance(file, str), f"{where}.file must name a pytest file, e.g. tests/test_x.py")
        rel = safe_relative(file, f"{where}.file")
        expect(rel.parts[0] == "tests", f"{where}.file must be under tests/, got {file!r}")
        expect((root / rel).is_file(), f"{where}.file: {file} does not exist in the package")
        return TestSpec(
            self.name, str(raw.get("name", rel.stem)), points, visibility, file=str(rel),
            sanity=sanity(raw, where),
        )

    def run(self, ctx: Context, spec: TestSpec) -> list[TestOutcome]:
        cases = run_pytest_file(
            ctx.backend,
            package_tests_dir=ctx.package.tests_dir,
            test_file=spec.file,
            submission_dir=fresh_copy(ctx.built, ctx.root),
            module_name=ctx.package.module_name,
            limits=ctx.package.limits,
        )
        # The harness named each case and trimmed its output; the spec gives the points.
        return [
            replace(case, score=spec.points if case.passed else 0.0, max_score=spec.points,
                    visibility=spec.visibility, kind=self.name)
            for case in cases
        ]

    def trace(self, ctx: Context, index: int, spec: TestSpec, probe: Probe,
              only: set[TestKey] | None) -> list[tuple[TestKey, Trace | None]]:
        """The whole file runs when one of its tests is wanted."""
        if only is not None and not any(k.spec == index for k in only):
            return []
        cases = run_pytest_file(
            ctx.backend, package_tests_dir=ctx.package.tests_dir, test_file=spec.file,
            submission_dir=fresh_copy(ctx.built, ctx.root), module_name=ctx.package.module_name,
            limits=ctx.package.limits,
            evidence=Evidence(probe_line=probe.line, probe_names=probe.names))
        found: list[tuple[TestKey, Trace | None]] = []
        for case in cases:
            key = TestKey(self.name, index, case.name)
            if only is not None and key not in only:
                continue
            found.append((key, Trace(case.covered, case.probes) if case.covered is not None
                          else None))
        return found

    def rerun(self, job: Variants, keys: list[TestKey]) -> dict[tuple[int, TestKey], bool]:
        """One trusted run per test file, one student process per (variant, test)."""
        by_file: dict[int, list[TestKey]] = {}
        for key in keys:
            by_file.setdefault(key.spec, []).append(key)
        results: dict[tuple[int, TestKey], bool] = {}
        for spec_index, wanted in by_file.items():
            spec = job.package.tests[spec_index]
            plan = [(f"{spec.file}::{k.name}", d) for d in job.dirs for k in wanted]
            cases = run_pytest_plan(job.backend, package_tests_dir=job.package.tests_dir,
                                    test_file=spec.file, plan=plan,
                                    module_name=job.package.module_name, limits=job.limits)
            if len(cases) != len(plan):  # a collection error: nothing known
                continue
            for n, case in enumerate(cases):
                results[n // len(wanted), wanted[n % len(wanted)]] = case.verdict == Verdict.PASSED
        return results
