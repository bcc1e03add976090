"""pytest plugins of the trusted process: list the tests, or run one and summarize it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .redirect import to_front
from .session import Session

MAX_OUTPUT = 16_000  # characters of failure text sent back per test (the runner keeps 8 kB)


def statically_skipped(item: pytest.Item) -> bool:
    """Whether ``skip``/``skipif`` marks skip ``item`` before it runs (as pytest would decide)."""
    try:
        from _pytest.skipping import evaluate_skip_marks

        return evaluate_skip_marks(item) is not None
    except Exception:  # a condition that needs the student module: decided when it runs
        return item.get_closest_marker("skip") is not None


# pytest's own fixtures that stand for a test module's or class's xunit set-up (setup_module,
# setUpModule, setup_class, unittest's setUpClass): the package's set-up, though pytest's code.
_XUNIT = ("_xunit_setup_module_fixture_", "_xunit_setup_class_fixture_",
          "_unittest_setUpClass_fixture_")
# pytest's own packages, whose wide-scoped fixtures (tmp_path_factory, ...) hold no test's state.
_PYTEST_PACKAGES = frozenset({"_pytest", "pytest"})
_SCOPE_NODES: dict[str, type[pytest.Collector]] = {
    "class": pytest.Class, "module": pytest.Module, "package": pytest.Package}


def shared_set_up(item: pytest.Item) -> set[tuple[int, str]]:
    """The set-up ``item`` shares with other tests: each fixture of a wider scope than a test
    that it uses (directly or through other fixtures), the package's own or its xunit set-up,
    with the node whose tests share that fixture's value (its class, module, package, or the
    session). Two tests share state through set-up only where these meet."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set()
    found = set()
    for name in info.names_closure:
        for fixturedef in info.name2fixturedefs.get(name, ()):
            scope = fixturedef.scope
            module = str(getattr(fixturedef.func, "__module__", None) or "")
            if scope == "function" or (module.split(".")[0] in _PYTEST_PACKAGES
                                        and not name.startswith(_XUNIT)):
                continue
            kind = _SCOPE_NODES.get(scope)
            node = item.getparent(kind) if kind is not None else None
            if node is None and scope == "class":  # a test outside a class: its module's
                node = item.getparent(pytest.Module)
            found.add((id(fixturedef), node.nodeid if node is not None else ""))
    return found


class CollectPlugin:
    """Records the node ids of a ``--collect-only`` session and any collection error.

    Tests skipped by their marks are left out here, once, without any student process: the
    list of tests, hence the maximum score, never depends on the submission.
    """

    def __init__(self) -> None:
        self.nodeids: list[str] = []
        self.errors: list[str] = []
        self.collecting = False  # the session has started; its tests are being collected

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.option.tbstyle = "short"
        to_front()

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        self.collecting = True

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(report.longreprtext)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.nodeids = [item.nodeid for item in session.items if not statically_skipped(item)]


class RunPlugin:
    """Runs exactly the test ``nodeid`` and turns its reports into one result dict.

    With ``replay`` the tests collected before ``nodeid`` that share set-up with it
    (:func:`shared_set_up`) run first, in order, in this same session and student process, and
    only ``nodeid``'s reports count: state a wider-scoped fixture (or ``setUpClass``,
    ``setup_module``) holds, and what earlier tests changed in it, is what it would be when
    plain pytest reaches ``nodeid``.

    The test passes only if pytest says so *and* the session to the student process stayed
    healthy throughout: a student that died, lied about the protocol, or ran out of time fails
    the test even if the test code caught the resulting error.

    A test whose setup (its fixtures, conftest's included) failed before the student's code was
    used at all (``Session.uses``) failed whatever the submission: that is the package's fault
    (reason ``fixture``), and the submission could not be graded. Once the student's code has
    been used, a failure may be the student's, and it stays a failed test.
    """

    def __init__(self, nodeid: str, session: Session,
                 on_start: Callable[[], None] | None = None, *, replay: bool = False) -> None:
        self.nodeid = nodeid
        self.replay = replay
        self.session = session
        self.on_start = on_start
        self.found = False
        self.collect_errors: list[str] = []
        self.failure: str | None = None
        self.failed_on_its_own = False  # setup failed before any use of the student's code
        self.skipped: str | None = None
        self.call_passed = False
        self.sections: list[tuple[str, str]] = []
        self.running: str | None = None  # the test being run: ``nodeid`` or one it replays

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.option.tbstyle = "short"  # the terminal plugin that defines --tb is off
        to_front()

    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        at = next((i for i, item in enumerate(items) if item.nodeid == self.nodeid), None)
        keep = [] if at is None else [items[at]]
        if at is not None and self.replay:
            uses = shared_set_up(items[at])
            keep = [item for item in items[:at] if uses & shared_set_up(item)] + keep
        chosen = {id(item) for item in keep}
        drop = [item for item in items if id(item) not in chosen]
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep
        self.found = bool(keep)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collect_errors.append(report.longreprtext)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.session.collecting = False  # from here on every use of the student's code counts
        self.running = item.nodeid
        if self.on_start is not None:  # the test's wall time starts now (see trusted.py)
            self.on_start()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid != self.nodeid:
            return
        if report.failed and self.failure is None:
            when = "" if report.when == "call" else f"(error during {report.when})\n"
            self.failure = when + report.longreprtext
            self.failed_on_its_own = report.when == "setup" and self.session.uses == 0
        if report.skipped and report.when in ("setup", "call") and self.skipped is None:
            reason = getattr(report, "wasxfail", None)
            self.skipped = f"xfail: {reason}" if reason is not None else report.longreprtext
        if report.when == "call" and report.passed:
            self.call_passed = True
        for title, content in report.sections:
            if title.startswith("Captured") and content:
                self.sections.append((title, content))

    def result(self) -> dict[str, Any]:
        found = self._result()
        if self.session.broken and self.running not in (None, self.nodeid):
            note = f"(while replaying {self.running}, an earlier test that shares set-up with it)"
            found["output"] = (note + (f"\n{found['output']}" if found["output"] else "")
                               )[:MAX_OUTPUT]
        return found

    def _result(self) -> dict[str, Any]:
        session = self.session
        broken = session.broken
        if broken == "timeout":
            return _failed("timeout", "")
        if broken == "lost":
            return _failed("lost", session.lost or "")
        if broken == "protocol":
            return _failed("protocol", session.violation or "")
        if broken == "value":
            return _failed("value", session.untransferable or "")
        if broken == "refused":
            return _failed("refused", session.refused or "")
        if broken in ("import", "compile"):
            return _failed(broken, session.import_error or "")
        if not self.found:
            text = "\n".join(self.collect_errors) or "this test was not collected in this run"
            return _failed("collect", text)
        if self.failure is not None and self.failed_on_its_own:
            return _failed("fixture", self.failure)
        if self.failure is not None:
            text = self.failure
            for title, content in self.sections:
                text += f"\n----- {title} -----\n{content}"
            return _failed(self.session.failure_reason, text)
        if self.skipped is not None:
            return {"outcome": "skipped", "reason": "skipped", "output": self.skipped[:MAX_OUTPUT]}
        if self.call_passed:
            return {"outcome": "passed", "reason": "passed", "output": ""}
        return _failed("failed", "the test produced no result")


def _failed(reason: str, output: str) -> dict[str, Any]:
    if len(output) > MAX_OUTPUT:
        output = output[:MAX_OUTPUT] + "\n…"
    return {"outcome": "failed", "reason": reason, "output": output}


__all__ = ["CollectPlugin", "RunPlugin"]
