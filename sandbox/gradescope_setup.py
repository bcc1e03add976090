"""Run a Gradescope autograder's ``setup.sh`` once per autograder version, as Gradescope's image
build does, and cache what it leaves under ``/autograder`` for every grading that follows.

Theory of operation
-------------------
Gradescope runs ``setup.sh`` once, as root and with the network, while it builds the
autograder's Docker image; every submission then starts from that image. The equivalent here
is a *prefix*: the ``/autograder`` tree as ``setup.sh`` left it.

* **Key.** The sha256 of the autograder folder (every path, file type, executable bit, file
  content and link target) plus ``FORMAT`` and the backend's name (bubblewrap runs on the
  host's system, Docker on its image's: a prefix built for one may not run on the other).
  Another package with the same autograder shares the build; any change makes a new one.
* **Build** (first grading of that version, or the reference check at upload). One sandbox run
  with ``SETUP_LIMITS``: the network allowed (and only here: the runs of ``run_autograder``,
  where student code runs, never get it), more time, memory and disk than a grading, as the
  sandbox user (not root). Its ``/autograder`` is a fresh folder holding ``source/`` (a copy of
  the autograder folder), empty ``submission/`` and ``results/`` and ``run_autograder``; the
  cwd is ``/autograder/source``. So that setup scripts written for Gradescope work unchanged
  without root: ``pip3 install`` installs into ``/autograder/.local`` (``PYTHONUSERBASE``; pip
  falls back to a user install because the system's site-packages is read-only), which every
  later run also has on ``sys.path`` and ``PATH``; and ``apt-get``/``apt`` are a small stand-in
  (``_APT_SHIM``) that succeeds for packages the sandbox's system already has (``update`` is a
  no-op) and fails, naming them, for the others, which an administrator must add to the system
  or the sandbox image.
* **Cache.** ``cache_root()/<key>/`` holds ``setup.json`` (outcome, seconds, the log's tail),
  ``setup.log`` (the whole output) and, after a success, ``tree/`` (the ``/autograder`` tree,
  made world-readable and not writable by the sandbox). It is built under a temporary name
  while holding ``<key>.lock`` (``flock``: one build at a time across threads and worker
  processes; a second worker waits for it and reuses it) and appears with one ``rename``, so a
  reader without the lock sees either nothing or a finished entry. A crashed build leaves only
  a temporary folder, removed by the next build of that key.
* **Failure** is cached with its log, so a broken ``setup.sh`` does not run again for every
  submission: each grading gets "could not be graded" with the build's output (a package
  fault), until ``FAILURE_RETRY_S`` have passed (a network hiccup heals) or the autograder
  changes. A failure of the sandbox itself (``SandboxError``) is ours and is not cached.
* **Use** (``sandbox.gradescope``): each grading copies ``tree/source`` (writable, as autograders
  copy the submission next to their tests) and binds every other top-level entry of the tree
  (``.local``, a venv, downloaded jars...) read-only at ``/autograder/<entry>``, so a large prefix
  costs no copy and no room in the run's ``tmp_size_mb``. Top-level links and special files are
  left out (a bind would follow a link on the host).

What ``setup.sh`` writes outside ``/autograder`` (``/tmp``, ``$HOME``) is lost, as is anything a
system package manager would install. Entries are never removed: delete the folder to reclaim
space (or after changing the sandbox's system: the key does not see it).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import secrets
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox import fstree
from sandbox.outcome import output_tail
from sandbox.types import Backend, Limits, RunSpec

log = logging.getLogger(__name__)

MOUNT = "/autograder"
FORMAT = "1"  # bump when the layout of a build or the environment of its runs changes
SETUP_LIMITS = Limits(
    cpu_seconds=240, wall_seconds=300, memory_mb=2048, max_processes=256,
    output_bytes=4_000_000, file_size_mb=512, tmp_size_mb=1024, network=True,
)  # fmt: skip
FAILURE_RETRY_S = 600.0
LOG_SHOWN = 3000  # characters of a failed build's output in the "could not be graded" cause
USER_BASE = f"{MOUNT}/.local"
SHIM_MOUNT = "/opt/gradescope-setup"
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
# Top-level names of the tree that every grading makes afresh: never part of the prefix.
PER_RUN = frozenset({"source", "submission", "results", "run_autograder",
                     "submission_metadata.json"})
# Read-only system paths a build needs beyond the backend's usual view, per backend: bubblewrap
# shows the host's /usr, so the host's package database says what the sandbox has (for the apt
# stand-in); a Docker image carries its own.
SYSTEM_BINDS: dict[str, dict[str, str]] = {"bubblewrap": {"/var/lib/dpkg": "/var/lib/dpkg"}}

# apt-get/apt without root: packages the system already has are fine, others fail by name.
_APT_SHIM = r"""#!/bin/bash
# The grader's stand-in for apt-get: setup.sh runs without root, the system is the sandbox's.
cmd=""; pkgs=()
while [ $# -gt 0 ]; do
  case "$1" in
    -o|-c|-t) shift ;;
    -*) ;;
    *) if [ -z "$cmd" ]; then cmd="$1"; else pkgs+=("${1%%=*}"); fi ;;
  esac
  shift
done
case "$cmd" in
  update|upgrade|dist-upgrade|full-upgrade|clean|autoclean|autoremove)
    echo "apt-get $cmd: skipped (the grader's sandbox system is fixed; no root here)"; exit 0 ;;
  install)
    missing=()
    for p in "${pkgs[@]}"; do
      p="${p%%:*}"
      status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
      [ "$status" = "installed" ] || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      echo "apt-get install: not on the grader's sandbox system: ${missing[*]}." >&2
      echo "setup.sh runs without root here: ask the grader's administrator to add them" >&2
      echo "to the sandbox system (or image), or install them under /autograder" >&2
      echo "(pip3 install works and is kept)." >&2
      exit 100
    fi
    echo "apt-get install: already on the grader's sandbox system: ${pkgs[*]}"; exit 0 ;;
  *) echo "apt-get $cmd: not available in the grader's setup run (no root)" >&2; exit 100 ;;
esac
"""


def run_env() -> dict[str, str]:
    """The environment of every run of an autograder (setup and grading): the prefix's Python
    packages and programs are found."""
    return {
        "HOME": "/tmp",  # noqa: S108 - the sandbox's private /tmp
        "PATH": f"{USER_BASE}/bin:{SANDBOX_PATH}",
        "PYTHONUSERBASE": USER_BASE,
    }


def _build_env() -> dict[str, str]:
    env = run_env()
    env.update({
        "PATH": f"{SHIM_MOUNT}:{env['PATH']}",
        # The system's Python is "externally managed" (PEP 668); installing into the
        # autograder's own user base is exactly what that rule leaves allowed.
        "PIP_BREAK_SYSTEM_PACKAGES": "1",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_ROOT_USER_ACTION": "ignore",
        "DEBIAN_FRONTEND": "noninteractive",
    })  # fmt: skip
    return env


@dataclass(frozen=True)
class Prepared:
    """A usable build: ``tree`` holds ``source/`` and the read-only ``prefix`` entries."""

    tree: Path
    prefix: tuple[str, ...]
    built_now: bool  # this call ran setup.sh (False: an earlier build was reused)
    seconds: float  # how long setup.sh ran when it was built


class SetupFailed(Exception):
    """setup.sh failed (a package fault). ``str()`` says why, with the end of its output."""


def cache_root() -> Path:
    """Where builds are kept: ``$GRADER_DATA_DIR/gradescope-setup``, the same data folder the
    Django settings use (``DATA_DIR``: that variable, else ``var/`` in the project)."""
    data = os.environ.get("GRADER_DATA_DIR") or str(Path(__file__).resolve().parents[1] / "var")
    return Path(data) / "gradescope-setup"


def autograder_key(folder: Path, backend_name: str) -> str:
    """sha256 of the autograder folder's tree (paths, types, exec bits, contents, link targets)."""
    found: dict[str, bytes] = {}  # path → digest of that entry; a walk's order is the disk's
    for entry in fstree.walk(folder):
        part = hashlib.sha256(json.dumps([entry.path, entry.kind]).encode())
        if entry.kind == "file":
            part.update(b"x" if entry.info.st_mode & 0o111 else b"-")
            fd = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                         dir_fd=entry.dir_fd)
            with os.fdopen(fd, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    part.update(chunk)
        elif entry.kind == "symlink":
            part.update(os.readlink(entry.name, dir_fd=entry.dir_fd).encode(errors="replace"))
        found[entry.path] = part.digest()
    digest = hashlib.sha256(f"gradescope-setup {FORMAT} {backend_name}\n".encode())
    for path in sorted(found):
        digest.update(found[path])
    return digest.hexdigest()


def prepare(backend: Backend, autograder_dir: Path, *, root: Path | None = None) -> Prepared:
    """The build of ``autograder_dir``'s setup.sh: cached, else built now (once, under a lock).

    Raises ``SetupFailed`` when setup.sh failed (now, or less than ``FAILURE_RETRY_S`` ago) and
    ``SandboxError`` when the sandbox itself failed.
    """
    root = root or cache_root()
    root.mkdir(mode=0o755, parents=True, exist_ok=True)
    key = autograder_key(autograder_dir, backend.name)
    entry = root / key
    found = _cached(entry)
    if found is not None:
        return found
    with _locked(root / f"{key}.lock"):
        found = _cached(entry)  # another worker may have built it while we waited
        if found is not None:
            return found
        return _build(backend, autograder_dir, entry)


def _cached(entry: Path) -> Prepared | None:
    try:
        record = json.loads((entry / "setup.json").read_text())
    except (OSError, ValueError):
        return None
    if record.get("ok"):
        if not (entry / "tree").is_dir():
            return None  # removed by hand: build again
        return Prepared(entry / "tree", tuple(record["prefix"]), False, record["seconds"])
    if time.time() - float(record.get("at", 0)) < FAILURE_RETRY_S:
        raise SetupFailed(record.get("message", "setup.sh failed"))
    return None  # an old failure: build again


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _build(backend: Backend, autograder_dir: Path, entry: Path) -> Prepared:
    """Run setup.sh in a fresh tree; publish the outcome at ``entry`` (lock held)."""
    for stale in entry.parent.glob(f".build-{entry.name}-*"):  # a crashed build's leftovers
        fstree.discard(stale)
    building = entry.parent / f".build-{entry.name}-{secrets.token_hex(4)}"
    building.mkdir(mode=0o700)  # the tree inside is open to the sandbox uid while it builds
    try:
        tree, shims, empty = building / "tree", building / "shims", building / "work"
        tree.mkdir(mode=0o755)
        empty.mkdir(mode=0o755)
        fstree.copy_tree(autograder_dir, tree / "source")
        for name in ("submission", "results"):
            (tree / name).mkdir()
        script = tree / "source" / "run_autograder"
        if script.is_file() and not script.is_symlink():
            (tree / "run_autograder").write_bytes(script.read_bytes())
            (tree / "run_autograder").chmod(0o755)
        shims.mkdir()
        for name in ("apt-get", "apt"):
            (shims / name).write_text(_APT_SHIM)
            (shims / name).chmod(0o755)
        binds = {str(shims): SHIM_MOUNT}
        binds.update({src: dst for src, dst in SYSTEM_BINDS.get(backend.name, {}).items()
                      if os.path.exists(src)})
        open_to_sandbox(tree)
        run = backend.run(RunSpec(
            argv=["bash", f"{MOUNT}/source/setup.sh"], workdir=empty, limits=SETUP_LIMITS,
            env=_build_env(), cwd=f"{MOUNT}/source", rw_binds={str(tree): MOUNT},
            ro_binds=binds,
        ))  # fmt: skip
        said = run.stdout + (b"\n" if run.stdout and run.stderr else b"") + run.stderr
        (building / "setup.log").write_bytes(said)
        record: dict[str, Any] = {
            "ok": run.ok, "at": time.time(), "seconds": run.wall_seconds,
            "verdict": str(run.verdict), "log_tail": output_tail(said, LOG_SHOWN),
        }  # fmt: skip
        if run.ok:
            record["prefix"] = _publishable(tree)
            _make_read_only(tree)
        else:
            record["message"] = _failure_message(run.message or str(run.verdict),
                                                 output_tail(said, LOG_SHOWN))
            fstree.remove_tree(tree)
        fstree.remove_tree(shims)
        fstree.remove_tree(empty)
        (building / "setup.json").write_text(json.dumps(record))
        os.chmod(building, 0o755)  # noqa: S103 - world-readable on purpose, writable by root only
        if entry.exists():  # an old failure being retried
            fstree.remove_tree(entry)
        os.rename(building, entry)
    except BaseException:
        fstree.discard(building)
        raise
    log.info("setup.sh of %s: %s in %.1f s (%s)", autograder_dir, "built" if record["ok"]
             else "failed", record["seconds"], entry.name[:12])
    if not record["ok"]:
        raise SetupFailed(record["message"])
    return Prepared(entry / "tree", tuple(record["prefix"]), True, record["seconds"])


def _failure_message(why: str, tail: str) -> str:
    return (
        f"setup.sh failed ({why}). It ran once for this version of the autograder, with the "
        "network but without root (apt-get only accepts packages the sandbox system already "
        "has; pip3 install works). It runs again when the autograder changes or "
        f"{FAILURE_RETRY_S / 60:g} minutes after this failure."
        + (f"\nIts output:\n{tail}" if tail else "")
    )


def _publishable(tree: Path) -> list[str]:
    """Top-level entries setup.sh made that later runs get read-only: folders and files only."""
    names = []
    for child in sorted(tree.iterdir()):
        info = child.lstat()
        if child.name in PER_RUN:
            continue
        if stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode):
            names.append(child.name)
        else:
            fstree.remove_tree(child)  # a link or a special file: never bound (see docstring)
    return names


def open_to_sandbox(folder: Path) -> None:
    """Make ``folder`` writable by whichever uid the sandbox runs as (Docker's runs are uid
    65534 in a bind of this host folder; bubblewrap's copy it and need nothing). Only for
    folders inside a 0700 parent of ours: no other host user can reach them."""
    os.chmod(folder, 0o777)  # noqa: S103 - see the docstring
    for entry in fstree.walk(folder):
        if entry.kind in ("dir", "file"):
            mode = stat.S_IMODE(entry.info.st_mode) & 0o777
            wanted = 0o777 if entry.kind == "dir" else mode | 0o666 | (0o111 if mode & 0o100 else 0)
            os.chmod(entry.name, wanted, dir_fd=entry.dir_fd)  # not a link (lstat)


def _make_read_only(tree: Path) -> None:
    """Readable by every sandbox uid, writable by none of them (the tree is bound read-only
    anyway; this keeps a Docker or non-root run from changing the shared copy)."""
    os.chmod(tree, 0o755)  # noqa: S103 - world-readable on purpose, writable by root only
    for entry in fstree.walk(tree):
        if entry.kind in ("dir", "file"):
            mode = stat.S_IMODE(entry.info.st_mode)
            wanted = (mode | (0o555 if entry.kind == "dir" else 0o444)) & ~0o7022
            if mode & 0o100:
                wanted |= 0o111
            os.chmod(entry.name, wanted, dir_fd=entry.dir_fd)  # not a link (lstat)


__all__ = [
    "Prepared", "SetupFailed", "autograder_key", "cache_root", "open_to_sandbox", "prepare",
    "run_env",
]
