"""The sandbox contract, checked against the real bubblewrap backend."""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from sandbox.backends.bwrap import UID_BASE, BubblewrapBackend
from sandbox.types import Limits, RunResult, RunSpec, SandboxError, Verdict
from tests.sandbox.conftest import HOST_SECRET, RecordingBackend, leftovers

pytestmark = pytest.mark.sandbox

PROJECT = Path(__file__).resolve().parents[2]
LIMITS = Limits(
    cpu_seconds=1,
    wall_seconds=3,
    memory_mb=128,
    max_processes=16,
    output_bytes=100_000,
    file_size_mb=4,
    tmp_size_mb=8,
)


def run(backend: BubblewrapBackend, workdir: Path, argv: list[str], **changes: object) -> RunResult:
    limits = changes.pop("limits", LIMITS)
    assert isinstance(limits, Limits)
    spec = RunSpec(argv=argv, workdir=workdir, limits=limits, **changes)  # type: ignore[arg-type]
    return backend.run(spec)


def py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_program_that_exits_zero_passes_with_its_output(backend, workdir):
    result = run(backend, workdir, py("print('hello'); import sys; print('oops', file=sys.stderr)"))
    assert result.verdict == Verdict.PASSED and result.ok
    assert result.exit_code == 0 and result.signal is None
    assert result.stdout == b"hello\n"
    assert result.stderr == b"oops\n"
    assert result.message == ""
    assert 0 < result.wall_seconds < 3
    assert result.max_rss_kb > 0


def test_stdin_reaches_the_program(backend, workdir):
    result = run(
        backend, workdir, py("a, b = map(int, input().split()); print(a + b)"), stdin=b"2 3\n"
    )
    assert result.verdict == Verdict.PASSED
    assert result.stdout == b"5\n"


def test_large_stdin_and_stdout_do_not_deadlock(backend, workdir):
    data = os.urandom(3 << 20)
    code = (
        "import sys; d = sys.stdin.buffer.read(); sys.stdout.buffer.write(d[:50000]); print(len(d))"
    )
    result = run(backend, workdir, py(code), stdin=data)
    assert result.verdict == Verdict.PASSED
    assert result.stdout == data[:50000] + str(len(data)).encode() + b"\n"


def test_a_program_that_ignores_its_large_stdin_still_finishes(backend, workdir):
    result = run(backend, workdir, py("print('no reading')"), stdin=b"x" * (4 << 20))
    assert result.verdict == Verdict.PASSED
    assert result.stdout == b"no reading\n"


def test_non_zero_exit_is_a_runtime_error_with_its_code(backend, workdir):
    result = run(backend, workdir, py("raise SystemExit(3)"))
    assert result.verdict == Verdict.RUNTIME_ERROR
    assert result.exit_code == 3 and result.signal is None
    assert result.message == "Your program exited with code 3"


def test_an_uncaught_exception_is_a_runtime_error_with_its_traceback(backend, workdir):
    result = run(backend, workdir, py("1 / 0"))
    assert result.verdict == Verdict.RUNTIME_ERROR
    assert b"ZeroDivisionError" in result.stderr


def test_death_by_signal_is_reported_as_a_crash(backend, workdir):
    result = run(backend, workdir, py("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"))
    assert result.verdict == Verdict.RUNTIME_ERROR
    assert result.signal == signal.SIGSEGV and result.exit_code is None
    assert "segmentation fault" in result.message


def test_the_host_environment_is_scrubbed(backend, workdir):
    code = "import os; print(sorted(os.environ.items()))"
    result = run(backend, workdir, py(code), env={"EXTRA": "given"})
    assert result.verdict == Verdict.PASSED
    env = eval(result.stdout)  # noqa: S307 - our own program's repr output
    assert HOST_SECRET not in result.stdout.decode()
    names = {k for k, _ in env}
    assert "GRADER_SANDBOX_TEST_SECRET" not in names
    assert dict(env)["EXTRA"] == "given"
    assert dict(env)["HOME"] in ("/tmp", "/work")
    assert dict(env)["LANG"] == "C.UTF-8"
    assert names <= {"PATH", "HOME", "LANG", "PYTHONDONTWRITEBYTECODE", "EXTRA", "PWD"}


def test_there_is_no_network(backend, workdir):
    code = "import socket; socket.create_connection(('127.0.0.1', 6379), timeout=1)"
    result = run(backend, workdir, py(code))
    assert result.verdict == Verdict.RUNTIME_ERROR
    assert b"ConnectionRefusedError" in result.stderr or b"OSError" in result.stderr


def test_the_network_can_be_switched_on(backend, workdir):
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("nothing listens on 127.0.0.1:6379 on this host")
    code = "import socket; socket.create_connection(('127.0.0.1', 6379), timeout=1); print('ok')"
    result = run(backend, workdir, py(code), limits=LIMITS.with_(network=True))
    assert result.verdict == Verdict.PASSED, result.stderr


def test_root_home_and_the_project_are_invisible(backend, workdir):
    # /root exists inside only as the way to a pyenv interpreter; nothing else of it shows.
    hidden = [str(PROJECT), str(PROJECT / "pyproject.toml"), "/etc/shadow", "/etc/passwd", "/home"]
    hidden += [f"/root/{name}" for name in os.listdir("/root") if name != ".pyenv"]
    code = "import os, sys\nfor p in sys.argv[1:]:\n    print(p, os.path.exists(p))\n"
    result = run(backend, workdir, [*py(code), *hidden])
    assert result.verdict == Verdict.PASSED, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == len(hidden)
    assert all(line.endswith("False") for line in lines), lines


def test_the_graders_own_install_is_not_on_a_sandboxed_path(backend, workdir):
    # The editable install's .pth (an import hook for grader/sandbox/feedback, or the source
    # folder as a path) is covered with an empty file: a student's interpreter neither pays for
    # the hook nor looks for modules under the host path of the grader's source.
    from sandbox.backends.bwrap_command import grader_pth_files

    covered = grader_pth_files(Path(sys.prefix))
    if not covered:
        pytest.skip("this venv has no .pth file of the grader's install (not an editable one)")
    code = ("import sys, importlib.util\n"
            "print([m for m in ('grader', 'sandbox', 'feedback') if importlib.util.find_spec(m)])\n"
            "print([n for n in sys.modules if 'editable' in n or n == '_distutils_hack'])\n"
            "print([p for p in sys.path if p.startswith(sys.argv[1])])\n")
    result = run(backend, workdir, [*py(code), str(PROJECT)])
    assert result.verdict == Verdict.PASSED, result.stderr
    assert result.stdout.decode().splitlines() == ["[]", "[]", "[]"]
    # site still works: exit() and the venv's site-packages are there as before
    result = run(backend, workdir, py("import sys, pytest; exit(3)"))
    assert result.exit_code == 3, result.stderr


def test_nothing_outside_work_and_tmp_is_writable(backend, workdir):
    code = (
        "import os\n"
        "for d in ['/', '/usr', '/etc', '/opt', '/dev', '/proc', '/work', '/tmp', '/dev/shm']:\n"
        "    try:\n"
        "        open(os.path.join(d, 'probe'), 'w').close(); print(d, 'writable')\n"
        "    except OSError:\n"
        "        print(d, 'read-only')\n"
    )
    result = run(backend, workdir, py(code))
    lines = dict(line.split() for line in result.stdout.decode().splitlines())
    writable = {d for d, state in lines.items() if state == "writable"}
    assert writable == {"/work", "/tmp", "/dev/shm"}
    assert (workdir / "probe").exists()
    assert not Path("/probe").exists() and not Path("/usr/probe").exists()


def test_the_program_runs_as_an_unprivileged_user_of_its_own(backend, workdir):
    result = run(backend, workdir, py("import os; print(os.getuid(), os.geteuid(), os.getgid())"))
    uid, euid, gid = map(int, result.stdout.split())
    assert uid != 0 and euid != 0 and gid != 0
    if os.geteuid() == 0:
        assert UID_BASE <= uid < UID_BASE + 64
        assert backend.last_uid == uid


def test_no_process_of_a_run_survives_it(backend: RecordingBackend, workdir):
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(1); open('/work/late', 'w').write('x'); time.sleep(60)\n"
        "    os._exit(0)\n"
    )
    result = run(backend, workdir, py(code))
    assert result.verdict == Verdict.PASSED
    assert leftovers(backend) == []
    time.sleep(1.5)
    assert not (workdir / "late").exists()


def test_a_wall_clock_timeout_kills_the_run(backend, workdir):
    started = time.monotonic()
    result = run(
        backend, workdir, py("import time; time.sleep(30)"), limits=LIMITS.with_(wall_seconds=1)
    )
    assert result.verdict == Verdict.TIMEOUT
    assert result.message == "Timed out after 1 s"
    assert result.signal == signal.SIGKILL
    assert time.monotonic() - started < 2.5
    assert leftovers(backend) == []


def test_a_run_killed_while_bwrap_is_still_setting_up_leaves_nothing(backend, workdir):
    # Orphans of other tests' subprocesses (a terminated celery worker's sandboxes, a browser's
    # crash handler) are reparented to this subreaper process too: only new children count.
    before = set(_children())
    for wall in (0.0005, 0.002, 0.005):
        result = run(
            backend,
            workdir,
            ["sh", "-c", "sleep 5 & sleep 5"],
            limits=LIMITS.with_(wall_seconds=wall),
        )
        assert result.verdict == Verdict.TIMEOUT
        assert leftovers(backend) == []
    left = [c for c in _children() if c not in before]
    assert left == [], "a sandbox process is left as our (subreaped) child"


def _children() -> list[str]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        if f"\nPPid:\t{os.getpid()}\n" in status:
            found.append(f"{entry} {status.splitlines()[0]}")
    return found


def test_cpu_time_is_limited(backend, workdir):
    result = run(backend, workdir, py("while True: pass"))
    assert result.verdict == Verdict.TIMEOUT
    assert result.message == "Your program used more than 1 s of CPU time"
    assert result.cpu_seconds > 0.9  # the kernel's tick accounting can read a hair under


def test_memory_is_limited(backend, workdir):
    result = run(backend, workdir, py("x = bytearray(512 << 20)"))
    assert result.verdict == Verdict.MEMORY
    assert result.message == "Your program used more than 128 MB of memory"


def test_output_is_capped_and_the_run_stopped(backend, workdir):
    result = run(backend, workdir, py("while True: print('y' * 99)"))
    assert result.verdict == Verdict.OUTPUT_LIMIT
    assert result.stdout_truncated and not result.stderr_truncated
    assert len(result.stdout) == LIMITS.output_bytes
    assert result.message == "Your program printed more than 100000 bytes"


def test_output_just_under_the_cap_passes(backend, workdir):
    code = f"import sys; sys.stdout.write('z' * {LIMITS.output_bytes})"
    result = run(backend, workdir, py(code))
    assert result.verdict == Verdict.PASSED
    assert len(result.stdout) == LIMITS.output_bytes and not result.stdout_truncated


def test_files_written_in_work_come_back_owned_like_the_workdir(backend, workdir):
    (workdir / "given.txt").write_text("input")
    result = run(backend, workdir, py("open('out.txt', 'w').write(open('given.txt').read() * 2)"))
    assert result.verdict == Verdict.PASSED, result.stderr
    assert (workdir / "out.txt").read_text() == "inputinput"
    owner = workdir.stat()
    for path in (workdir / "out.txt", workdir / "given.txt"):
        assert (path.stat().st_uid, path.stat().st_gid) == (owner.st_uid, owner.st_gid)


def test_a_symlink_left_in_work_does_not_redirect_the_hosts_chown(backend, workdir, tmp_path):
    target = tmp_path / "host_file"
    target.write_text("host")
    before = target.stat()
    result = run(backend, workdir, py(f"import os; os.symlink({str(target)!r}, '/work/link')"))
    assert result.verdict == Verdict.PASSED
    assert (workdir / "link").is_symlink()
    after = target.stat()
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)


def test_binds_are_read_only_or_writable_as_asked(backend, workdir, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "in.txt").write_text("42")
    data.chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    code = (
        "print(open('/data/in.txt').read())\n"
        "try:\n    open('/data/x', 'w')\nexcept OSError:\n    print('ro')\n"
        "open('/out/result', 'w').write('done')\n"
    )
    result = run(
        backend, workdir, py(code), ro_binds={str(data): "/data"}, rw_binds={str(out): "/out"}
    )
    assert result.verdict == Verdict.PASSED, result.stderr
    assert result.stdout == b"42\nro\n"
    assert (out / "result").read_text() == "done"


def test_cwd_is_work_unless_set(backend, workdir):
    (workdir / "sub").mkdir()
    assert run(backend, workdir, ["pwd"]).stdout == b"/work\n"
    assert run(backend, workdir, ["pwd"], cwd="/work/sub").stdout == b"/work/sub\n"


def test_a_command_that_cannot_start_is_a_sandbox_error(backend, workdir):
    with pytest.raises(SandboxError, match="execvp"):
        run(backend, workdir, ["/no/such/program"])


def test_a_missing_bind_source_is_a_sandbox_error(backend, workdir):
    with pytest.raises(SandboxError, match="does not exist"):
        run(backend, workdir, ["true"], ro_binds={"/no/such/folder": "/data"})


KILL_ALL = """
import os, signal
try:
    os.kill(-1, signal.SIGKILL)  # everything this uid may signal, except itself
except ProcessLookupError:
    pass  # nothing else to signal: the sandbox's pid 1 is immune, the rest is out of reach
print(os.getuid())
"""


def test_concurrent_runs_get_their_own_uid_and_cannot_kill_each_other(backend, workdir, tmp_path):
    results: dict[str, RunResult] = {}
    other = tmp_path / "other"
    other.mkdir()

    def victim() -> None:
        results["victim"] = run(
            backend, other, py("import os, time; time.sleep(1.5); print(os.getuid())")
        )

    thread = threading.Thread(target=victim)
    thread.start()
    time.sleep(0.5)
    killer = run(backend, workdir, py(KILL_ALL))
    thread.join()
    assert results["victim"].verdict == Verdict.PASSED
    assert killer.verdict == Verdict.PASSED
    if os.geteuid() == 0:
        assert results["victim"].stdout != killer.stdout


def test_passed_file_descriptors_reach_the_program(backend, workdir):
    read_end, write_end = os.pipe()
    try:
        code = f"import os; os.write({write_end}, b'from inside')"
        result = run(backend, workdir, py(code), pass_fds=(write_end,))
        os.close(write_end)
        write_end = -1
        assert result.verdict == Verdict.PASSED, result.stderr
        assert os.read(read_end, 100) == b"from inside"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def test_ptrace_is_refused_by_the_seccomp_filter(backend, workdir):
    code = (
        "import ctypes\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print(libc.ptrace(16, 1, 0, 0), ctypes.get_errno())\n"  # PTRACE_ATTACH to pid 1
    )
    result = run(backend, workdir, py(code))
    assert result.verdict == Verdict.PASSED, result.stderr
    assert result.stdout.split() == [b"-1", str(errno.EPERM).encode()]
