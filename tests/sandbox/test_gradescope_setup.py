"""setup.sh runs once per version of an autograder, with the network, and its /autograder is
reused read-only by every grading (sandbox.gradescope_setup)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from sandbox import fstree, gradescope_setup
from sandbox.grade import grade
from sandbox.gradescope_setup import SetupFailed, prepare
from sandbox.package import load_package
from sandbox.types import Fault, Verdict
from tests.sandbox.test_gradescope import CORRECT, make_package

RESULTS = "/autograder/results/results.json"
# run_autograder that reports one line of shell output as the top-level output.
REPORT = (
    'out=$( ( {cmd} ) 2>&1 | tail -c 300 | tr -d \'"\\\\\' | tr "\\n" " ")\n'
    'echo "{{\\"score\\": 1, \\"output\\": \\"$out\\"}}" > ' + RESULTS + "\n"
)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRADER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data" / "gradescope-setup"


def package_with(tmp_path: Path, *, setup: str, cmd: str):
    return load_package(make_package(tmp_path, REPORT.format(cmd=cmd), setup=setup,
                                     extra="points = 1"))


def output(report) -> str:
    assert report.ungradable is None, report.ungradable
    return report.tests[0].output


@pytest.mark.sandbox
def test_setup_runs_once_and_every_grading_reuses_its_build(backend, tmp_path, data_dir):
    setup = "head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /autograder/source/build-id\n"
    package = package_with(tmp_path, setup=setup, cmd="cat /autograder/source/build-id")
    first, second = output(grade(package, CORRECT, backend)), output(grade(package, CORRECT,
                                                                           backend))
    assert len(first) == 16 and first == second  # the same build, not a second setup.sh run
    assert len([p for p in data_dir.iterdir() if p.is_dir()]) == 1


@pytest.mark.sandbox
def test_a_changed_autograder_is_built_again(backend, tmp_path, data_dir):
    setup = "head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /autograder/source/build-id\n"
    package = package_with(tmp_path, setup=setup, cmd="cat /autograder/source/build-id")
    first = output(grade(package, CORRECT, backend))
    (package.root / "ag" / "helper.txt").write_text("new file\n")
    assert output(grade(package, CORRECT, backend)) != first


@pytest.mark.sandbox
def test_a_build_whose_tree_was_deleted_is_built_again(backend, tmp_path, data_dir):
    setup = "head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /autograder/source/build-id\n"
    package = package_with(tmp_path, setup=setup, cmd="cat /autograder/source/build-id")
    first = output(grade(package, CORRECT, backend))
    (entry,) = [p for p in data_dir.iterdir() if p.is_dir()]
    fstree.remove_tree(entry / "tree")  # an administrator reclaiming space
    again = output(grade(package, CORRECT, backend))
    assert len(again) == 16 and again != first


@pytest.mark.sandbox
def test_setup_has_the_network_and_run_autograder_does_not(backend, tmp_path):
    # The machine reaches PyPI by name: pip in setup.sh works, the student's run cannot.
    setup = "pip3 install gradescope-utils==0.5.0\n"
    probe = (
        "python3 -c \"import gradescope_utils, socket; print('imported'); "
        "socket.create_connection(('pypi.org', 443), timeout=3); print('connected')\""
    )
    said = output(grade(package_with(tmp_path, setup=setup, cmd=probe), CORRECT, backend))
    assert "imported" in said and "connected" not in said
    assert "name resolution" in said  # no DNS, no route: the network namespace is empty


@pytest.mark.sandbox
def test_what_setup_installs_is_read_only_to_the_grading(backend, tmp_path):
    setup = "mkdir -p /autograder/tools && echo v1 > /autograder/tools/version\n"
    cmd = "echo hacked > /autograder/tools/version; cat /autograder/tools/version"
    package = package_with(tmp_path, setup=setup, cmd=cmd)
    said = output(grade(package, CORRECT, backend))
    assert "Read-only file system" in said and said.endswith("v1")
    assert output(grade(package, CORRECT, backend)).endswith("v1")  # still the build's


@pytest.mark.sandbox
def test_a_link_setup_leaves_at_the_top_of_autograder_is_not_followed(backend, tmp_path):
    # A bind follows its source on the host: a top-level link to a host file must never become
    # one, so it is dropped from the build (links inside folders stay links, in the sandbox).
    setup = (
        "ln -s /etc/hostname /autograder/leak && mkdir /autograder/d && "
        "ln -s /etc/hostname /autograder/d/ok\n"
    )
    cmd = "ls -A /autograder; readlink /autograder/d/ok"
    said = output(grade(package_with(tmp_path, setup=setup, cmd=cmd), CORRECT, backend))
    assert "leak" not in said and said.endswith("/etc/hostname")


@pytest.mark.sandbox
def test_a_failing_setup_is_cached_with_its_output_and_retried_later(
    backend, tmp_path, data_dir, monkeypatch
):
    package = package_with(tmp_path, setup="echo installing; echo broken >&2; exit 3\n", cmd="true")
    report = grade(package, CORRECT, backend)
    (only,) = report.tests
    assert (only.verdict, only.fault, only.score, only.max_score) == (
        Verdict.SANDBOX_ERROR, Fault.PACKAGE, 0, 1)
    assert "setup.sh failed" in only.output and "broken" in only.output
    assert "installing" in only.output
    (entry,) = [p for p in data_dir.iterdir() if p.is_dir()]
    record = json.loads((entry / "setup.json").read_text())
    assert not record["ok"] and not (entry / "tree").exists()
    assert "broken" in (entry / "setup.log").read_text()
    grade(package, CORRECT, backend)
    assert json.loads((entry / "setup.json").read_text())["at"] == record["at"]  # not re-run
    monkeypatch.setattr(gradescope_setup, "FAILURE_RETRY_S", 0.0)
    again = grade(package, CORRECT, backend)
    assert again.tests[0].verdict == Verdict.SANDBOX_ERROR
    assert json.loads((entry / "setup.json").read_text())["at"] > record["at"]  # ran again


@pytest.mark.sandbox
def test_concurrent_first_gradings_build_once(backend, tmp_path, data_dir):
    folder = tmp_path / "ag"
    folder.mkdir()
    (folder / "run_autograder").write_text("true\n")
    (folder / "setup.sh").write_text(
        "sleep 1; head -c 8 /dev/urandom | od -An -tx1 > /autograder/source/build-id\n")
    found: list[object] = []

    def first_use() -> None:
        found.append(prepare(backend, folder))

    threads = [threading.Thread(target=first_use) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 3 and all(isinstance(p, gradescope_setup.Prepared) for p in found)
    prepared = [p for p in found if isinstance(p, gradescope_setup.Prepared)]
    assert [p.built_now for p in prepared].count(True) == 1
    assert len({(p.tree / "source" / "build-id").read_text() for p in prepared}) == 1
    assert not list(data_dir.glob(".build-*"))


def test_the_key_follows_content_exec_bits_and_backend(tmp_path):
    folder = tmp_path / "ag"
    folder.mkdir()
    (folder / "setup.sh").write_text("true\n")
    key = gradescope_setup.autograder_key(folder, "bubblewrap")
    assert gradescope_setup.autograder_key(folder, "bubblewrap") == key
    assert gradescope_setup.autograder_key(folder, "docker") != key
    (folder / "setup.sh").chmod(0o755)
    assert gradescope_setup.autograder_key(folder, "bubblewrap") != key


def test_a_cached_failure_raises_without_running_anything(tmp_path):
    folder, cache = tmp_path / "ag", tmp_path / "cache"
    folder.mkdir()
    (folder / "setup.sh").write_text("exit 1\n")
    entry = cache / gradescope_setup.autograder_key(folder, "fake")
    entry.mkdir(parents=True)
    (entry / "setup.json").write_text(json.dumps({"ok": False, "at": 1e12, "message": "nope"}))

    class Unused:
        name = "fake"

        def run(self, spec):  # pragma: no cover - must not be called
            raise AssertionError("setup.sh ran again")

    with pytest.raises(SetupFailed, match="nope"):
        prepare(Unused(), folder, root=cache)
