"""``type = "gradescope"``: an unchanged Gradescope autograder folder (``run_autograder``, and
``setup.sh``), run by ``sandbox.gradescope`` on the files as uploaded: it builds them itself."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sandbox.gradescope import default_metadata, merge_metadata, run_gradescope
from sandbox.outcome import TestOutcome
from sandbox.testtypes.base import (
    SOLUTION_DIR,
    Context,
    TestSpec,
    TestType,
    entry_name,
    entry_visibility,
    expect,
    known_keys,
    number,
    safe_relative,
    write_files,
)


class GradescopeTests(TestType):
    name = "gradescope"
    keys = frozenset({"type", "name", "autograder", "points", "visibility", "setup"})
    own_build = True  # on Gradescope a syntax or compile error is the autograder's to grade

    def parse(self, raw: dict[str, Any], index: int, root: Path, language: str) -> TestSpec:
        where = f"tests[{index}]"
        known_keys(raw, where, self.keys)
        folder: Any = raw.get("autograder")
        expect(
            isinstance(folder, str),
            f"{where}.autograder must name the folder holding run_autograder, e.g. autograder/",
        )
        rel = safe_relative(folder.rstrip("/"), f"{where}.autograder")
        expect((root / rel).is_dir(),
               f"{where}.autograder: {folder} is not a folder in the package")
        # The autograder folder is copied into the student's sandbox: it must not hold the
        # solution.
        expect(
            SOLUTION_DIR not in rel.parts[:1] and not (root / rel / SOLUTION_DIR).exists(),
            f"{where}.autograder: {folder} holds or is the package's {SOLUTION_DIR}/ folder, which "
            "would be copied to every student; point it at a folder beside solution/",
        )
        expect(
            (root / rel / "run_autograder").is_file(),
            f"{where}.autograder: {folder} has no run_autograder file",
        )
        scale_to = None
        if "points" in raw:
            scale_to = number(raw["points"], f"{where}.points")
            expect(0 < scale_to <= 1000, f"{where}.points must be above 0 and at most 1000")
        visibility = entry_visibility(raw, where)
        name = entry_name(raw, where, "autograder")
        setup = raw.get("setup", True)
        expect(isinstance(setup, bool), f"{where}.setup must be true or false")
        return TestSpec(
            self.name,
            name.strip(),
            scale_to or 0.0,
            visibility,
            autograder=str(rel),
            run_setup=setup,
            scale_to=scale_to,
        )

    def run(self, ctx: Context, spec: TestSpec) -> list[TestOutcome]:
        return run_gradescope(
            ctx.backend,
            autograder_dir=ctx.package.root / spec.autograder,
            # The files as uploaded, not the build's: the autograder compiles them itself.
            submission_dir=write_files(ctx.files, Path(tempfile.mkdtemp(dir=ctx.root)) / "files"),
            limits=ctx.package.limits,
            parent=ctx.root,
            name=spec.name,
            visibility=spec.visibility,
            points=spec.scale_to,
            run_setup=spec.run_setup,
            metadata=merge_metadata(
                default_metadata(title=ctx.package.title,
                                 total_points=sum(t.points for t in ctx.package.tests)),
                ctx.metadata,
            ),
        )
