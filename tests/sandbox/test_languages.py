"""Languages build and run inside the sandbox; stdout is compared with the tolerant I/O rule."""

from __future__ import annotations

import pytest

from sandbox.iotest import check_output
from sandbox.languages import BUILD_LIMITS, LANGUAGES, UnknownLanguageError, get_language
from sandbox.package import LANGUAGE_EXTENSIONS, load_package
from sandbox.types import Limits, RunSpec, Verdict

LIMITS = Limits(cpu_seconds=2, wall_seconds=5, memory_mb=128)

ADD = {
    "python": ("add.py", "a, b = map(int, input().split())\nprint(a + b)\n"),
    "c": (
        "add.c",
        '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b);'
        ' printf("%ld\\n", a + b); return 0; }\n',
    ),
    "cpp": (
        "add.cpp",
        "#include <iostream>\nint main() { long a, b; std::cin >> a >> b;"
        " std::cout << a + b << std::endl; }\n",
    ),
    "java": (
        "Add.java",
        "import java.util.Scanner;\npublic class Add { public static void main(String[] x) {"
        " Scanner s = new Scanner(System.in);"
        " System.out.println(s.nextLong() + s.nextLong()); } }\n",
    ),
}

BROKEN = {
    "python": ("broken.py", "def f(:\n    pass\n", "SyntaxError"),
    "c": ("broken.c", "int main(void) { return undefined_name; }\n", "undefined_name"),
    "cpp": ("broken.cpp", "int main() { std::vector<int> v; }\n", "vector"),
    "java": (
        "Broken.java",
        'public class Broken { void f() { int x = "s"; } }\n',
        "incompatible types",
    ),
}


def test_every_registered_language_has_a_program_and_a_compile_error_here():
    # A language added to the registry (CONTRIBUTING.md) is built and run below, or this fails.
    assert sorted(ADD) == sorted(BROKEN) == sorted(LANGUAGES)


@pytest.mark.sandbox
@pytest.mark.parametrize("name", sorted(ADD))
def test_each_language_builds_and_runs_an_add_program(backend, workdir, name):
    language = get_language(name)
    main_file, source = ADD[name]
    (workdir / main_file).write_text(source)
    build = language.build(backend, workdir, main_file, LIMITS)
    assert build.ok, build.output
    spec = language.run_spec(main_file, LIMITS, workdir=workdir, stdin=b"40 2\n",
                             discard_workdir=False)
    result = backend.run(spec)
    assert result.verdict == Verdict.PASSED, result.stderr
    assert check_output(result.stdout, "42\n") == (True, "")


@pytest.mark.sandbox
@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_compile_error_fails_the_build_with_the_compilers_message(backend, workdir, name):
    main_file, source, expected = BROKEN[name]
    (workdir / main_file).write_text(source)
    build = get_language(name).build(backend, workdir, main_file, LIMITS)
    assert not build.ok
    assert expected in build.output
    assert main_file in build.output


@pytest.mark.sandbox
def test_a_python_syntax_check_leaves_no_bytecode_behind(backend, workdir):
    (workdir / "ok.py").write_text("print('fine')\n")
    assert get_language("python").build(backend, workdir, "ok.py", LIMITS).ok
    assert sorted(p.name for p in workdir.iterdir()) == ["ok.py"]


@pytest.mark.sandbox
def test_a_python_program_can_import_its_own_module(backend, workdir):
    (workdir / "helper.py").write_text("def double(x):\n    return 2 * x\n")
    (workdir / "main.py").write_text("from helper import double\nprint(double(21))\n")
    python = get_language("python")
    result = backend.run(RunSpec(argv=python.run_argv("main.py"), workdir=workdir, limits=LIMITS))
    assert result.stdout == b"42\n", result.stderr


@pytest.mark.sandbox
def test_a_compiler_bomb_is_stopped_by_the_build_limits(backend, workdir):
    # The preprocessor reads an endless file: the build's own limits stop it.
    (workdir / "bomb.c").write_text('#include "/dev/zero"\nint main(void) { return 0; }\n')
    build = get_language("c").build(backend, workdir, "bomb.c", LIMITS)
    assert not build.ok
    assert "The build was stopped: The compiler used more than" in build.output


def test_java_heap_follows_the_memory_limit():
    argv = get_language("java").run_argv("Main.java", Limits(memory_mb=300))
    assert "-Xmx300m" in argv
    assert argv[-1] == "Main" and argv[0] == "java"


def test_unknown_language_is_a_clear_error():
    with pytest.raises(UnknownLanguageError, match="supported languages are c, cpp, java, python"):
        get_language("cobol")
    assert isinstance(UnknownLanguageError("x"), ValueError)


def test_languages_are_found_by_name_and_alias_with_their_extensions():
    assert get_language("Python").extensions == (".py",)
    assert get_language("c++").name == "cpp"
    assert get_language("cpp").extensions == (".cpp", ".cc", ".cxx")
    assert get_language("java").extensions == (".java",)
    assert get_language("c").extensions == (".c",)


def test_a_main_file_outside_the_workdir_is_refused():
    for bad in ("../x.py", "/etc/passwd", "-rf.py", "@options"):
        with pytest.raises(ValueError, match="relative path"):
            get_language("python").run_argv(bad)


def test_builds_get_tight_limits_of_their_own():
    # A failed build uses no attempt: what one may burn is what a compiler needs, no more.
    for name in ("c", "cpp", "java", "python"):
        limits = get_language(name).build_limits(LIMITS)
        assert limits.cpu_seconds <= 10 and limits.wall_seconds <= 20
        assert limits.memory_mb <= 512 and limits.max_processes <= 32
        assert limits.tmp_size_mb <= 64 and not limits.network
    python = get_language("python").build_limits(LIMITS)
    assert python.max_processes <= 4 and python.file_size_mb <= 1
    assert BUILD_LIMITS.wall_seconds >= 2 * BUILD_LIMITS.cpu_seconds  # a loaded machine


# -- the tolerant output comparison --------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        (b"5\n", "5"),
        (b"5", "5\n"),
        (b"1 2  \n3\t\n\n\n", "1 2\n3\n"),
        (b"a\r\nb\r\n", "a\nb\n"),
        (b"", ""),
        (b"\n\n", ""),
        ("caf\u00e9\n".encode(), "caf\u00e9"),
    ],
)
def test_output_matches_despite_trailing_whitespace(actual, expected):
    assert check_output(actual, expected) == (True, "")


def test_a_wrong_line_is_named_with_both_values():
    assert check_output(b"4\n6\n", "4\n5\n") == (False, "line 2: expected '5', got '6'")


def test_leading_whitespace_still_counts():
    passed, why = check_output(b" 5\n", "5\n")
    assert not passed and why == "line 1: expected '5', got ' 5'"


def test_missing_and_extra_lines_are_explained():
    assert check_output(b"1\n", "1\n2\n3\n") == (
        False,
        "line 2: expected '2', got the end of the output (2 lines missing)",
    )
    assert check_output(b"1\n2\n", "1\n") == (
        False,
        "line 2: expected the end of the output, got '2'",
    )


def test_undecodable_output_does_not_crash_the_comparison():
    passed, why = check_output(b"\xff\xfe\n", "ok")
    assert not passed and "line 1" in why


def test_long_lines_are_shortened_in_the_explanation():
    passed, why = check_output(b"x" * 500, "y")
    assert not passed and len(why) < 120


@pytest.mark.parametrize(
    ("name", "language"),
    [(n, lang) for lang in LANGUAGES.values() for n in (lang.name, *lang.aliases)],
)
def test_a_package_accepts_every_name_get_language_accepts(tmp_path, name, language):
    submission = ("Main" if language.name == "java" else "main") + language.extensions[0]
    (tmp_path / "assignment.toml").write_text(
        f'title = "T"\nlanguage = "{name}"\nsubmission = "{submission}"\n'
        '[[tests]]\ntype = "io"\nstdin = ""\nexpected_stdout = ""\n'
    )
    package = load_package(tmp_path)
    assert package.language == language.name == get_language(name).name
    assert LANGUAGE_EXTENSIONS[package.language] == language.extensions
