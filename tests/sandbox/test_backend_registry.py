"""The backend registry: one list of backends, read by get_backend, settings and commands."""

from __future__ import annotations

from pathlib import Path

import pytest

import sandbox.backends
from sandbox import get_backend
from sandbox.backends import ALIASES, BACKENDS, backend_class, backend_name


def test_every_registered_backend_class_carries_its_registered_name():
    for name in BACKENDS:
        assert backend_class(name).name == name


def test_an_alias_means_its_backend_and_an_unknown_name_is_a_clear_error():
    for alias, name in ALIASES.items():
        assert backend_name(alias) == name
    with pytest.raises(ValueError, match="unknown sandbox backend 'firejail': expected 'bub"):
        get_backend("firejail")


@pytest.mark.sandbox
def test_get_backend_builds_the_backend_an_alias_names():
    assert get_backend("bwrap").name == "bubblewrap"


def test_no_backend_guesses_a_runtime_from_argv():
    # What a runtime needs travels in RunSpec.needs (sandbox.languages sets it).
    folder = Path(sandbox.backends.__file__).parent
    for module in sorted(folder.glob("*.py")):
        text = module.read_text()
        for name in ('"java"', '"javac"', "java-17", "_is_jvm"):
            assert name not in text, f"{module.name} mentions {name}"


@pytest.mark.parametrize("name", list(BACKENDS))
def test_every_backend_is_named_as_registered_and_has_a_health_probe(name):
    cls = backend_class(name)
    assert cls.name == name and callable(cls.probe)


def test_the_health_check_reports_the_probe_of_the_configured_backend(settings):
    from grader.ops.health import check_sandbox

    settings.SANDBOX_BACKEND = "bubblewrap"
    ok, detail = check_sandbox()
    assert ok and detail.startswith("bubblewrap /")


def test_the_web_app_builds_its_backend_with_the_settings_options(settings, monkeypatch):
    from grader.lib import sandbox as lib_sandbox

    built = {}

    class Recorder:
        name = "docker"

        def __init__(self, **options):
            built.update(options)

    monkeypatch.setattr("sandbox.backends.backend_class", lambda name: Recorder)
    settings.SANDBOX_BACKEND = "docker"
    settings.SANDBOX_BACKEND_OPTIONS = {"docker": {"image": "mine:1", "pool_size": 5}}
    lib_sandbox.sandbox_backend.cache_clear()
    try:
        assert lib_sandbox.sandbox_backend().name == "docker"
    finally:
        lib_sandbox.sandbox_backend.cache_clear()
    assert built == {"image": "mine:1", "pool_size": 5}


def test_no_sandbox_module_reads_the_environment_for_its_settings():
    # Settings come in as arguments (grader/settings.py reads the environment); the harness's
    # agent runs inside the sandbox and gradescope_setup's data folder is the one exception.
    root = Path(sandbox.__file__).parent
    for module in sorted(root.rglob("*.py")):
        if "agent" in module.parts or module.name == "gradescope_setup.py":
            continue
        assert "os.environ.get(" not in module.read_text(), module
