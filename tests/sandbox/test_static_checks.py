"""Static checks: AST rules over the student's source, parsed on the trusted side, never run."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sandbox.grade import grade
from sandbox.package import PackageError, load_package
from sandbox.static_checks import RULES, check_source, parse_rule
from sandbox.testtypes import TEST_TYPES
from sandbox.testtypes.static import StaticTests

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "examples" / "packages" / "recursive_sum"
SUBMISSIONS = ROOT / "examples" / "submissions" / "recursive_sum"

SOURCE = textwrap.dedent('''\
    import math as m
    from functools import reduce
    from statistics import *


    def fib(n):
        """Recursive, no loops."""
        if n < 2:
            return n
        return fib(n - 1) + fib(n - 2)


    def fib_loop(n):
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        return a


    def squares(n):
        return [i * i for i in range(n)]


    def sort_all(xs):
        xs.sort()
        key = sorted
        return sorted(xs, key=m.sqrt), getattr(xs, "sort"), mean(xs)


    def even(n):
        return n == 0 or odd(n - 1)


    def odd(n):
        return n != 0 and even(n - 1)


    class Stack:
        def push(self, x):
            return self.push(x)

        def peek(self):
            return None
''')


def check(rule: str, source: str = SOURCE, **params: object) -> tuple[bool, str]:
    return check_source(parse_rule(rule, params), source.encode(), filename="solution.py",
                        own_modules=frozenset({"solution", "helpers"}))


def test_static_is_a_registered_test_type():
    assert isinstance(TEST_TYPES["static"], StaticTests)


def test_no_loops_in_a_function_names_each_loop_and_its_line():
    assert check("no_loops", function="fib") == (True, "")
    assert check("no_loops", function="fib_loop") == (False, "line 15: a for loop in fib_loop")
    ok, output = check("no_loops")
    assert not ok
    assert output.splitlines() == ["line 15: a for loop", "line 21: a list comprehension"]
    assert check("no_loops", function="squares", allow_comprehensions=True) == (True, "")
    assert check("no_loops", source="while True:\n    pass\n") == (False, "line 1: a while loop")


def test_a_missing_function_fails_the_rule_and_says_so():
    ok, output = check("no_loops", function="fibonacci")
    assert not ok and "does not define fibonacci" in output


def test_forbidden_calls_catch_calls_method_calls_aliases_references_and_getattr():
    ok, output = check("forbidden_calls", names=["sorted", "list.sort"])
    assert not ok
    assert output.splitlines() == [
        "line 25: calls list.sort()",
        "line 26: uses sorted",  # key = sorted: a reference counts, not only a call
        "line 27: calls sorted()",
        "line 27: looks up 'sort' with getattr",
    ]
    # ``import math as m`` then ``m.sqrt``; ``from statistics import *`` then ``mean``.
    assert check("forbidden_calls", names=["math.sqrt"], function="sort_all") == (
        False, "line 27: uses math.sqrt in sort_all")
    assert check("forbidden_calls", names=["statistics.mean"])[1] == "line 27: calls " \
        "statistics.mean()"
    assert check("forbidden_calls", names=["functools.reduce"], source="from functools import "
                 "reduce as r\nr(f, xs)\n") == (False, "line 2: calls functools.reduce()")
    assert check("forbidden_calls", names=["sorted"], source="import builtins\n"
                 "builtins.sorted([])\n") == (False, "line 2: calls sorted()")
    assert check("forbidden_calls", names=["sorted"], function="fib") == (True, "")


def test_a_students_own_function_with_a_builtins_name_is_not_the_builtin():
    source = "def sorted(xs):\n    return xs\n\nprint(sorted([2, 1]))\n"
    assert check("forbidden_calls", source=source, names=["sorted"]) == (True, "")


def test_recursive_accepts_direct_mutual_and_method_recursion_only():
    assert check("recursive", function="fib") == (True, "")
    assert check("recursive", function="even") == (True, "")  # even → odd → even
    assert check("recursive", function="Stack.push") == (True, "")
    ok, output = check("recursive", function="fib_loop")
    assert not ok and output == ("line 13: fib_loop never calls itself, directly or through "
                                 "other functions of solution.py")
    assert not check("recursive", function="Stack.peek")[0]


def test_defines_lists_what_is_missing():
    ok, output = check("defines", names=["fib", "Stack.push", "Stack.pop", "Queue"])
    assert not ok
    assert output.splitlines() == ["class Stack does not define pop",
                                   "solution.py does not define Queue"]
    assert check("defines", names=["fib", "even", "Stack", "Stack.peek"]) == (True, "")


def test_max_lines_counts_code_not_comments_blank_lines_or_docstrings():
    # fib's body: the docstring is not counted, its 3 statements are.
    assert check("max_lines", function="fib", max=3) == (True, "")
    assert check("max_lines", function="fib_loop", max=3) == (
        False, "line 13: the body of fib_loop has 4 lines of code; at most 3 are allowed")
    source = "# a comment\n\nx = 1\n\n\ny = [\n    1,\n]\n"
    assert check("max_lines", source=source, max=4) == (True, "")
    assert check("max_lines", source=source, max=3) == (
        False, "solution.py has 4 lines of code; at most 3 are allowed")


def test_imports_rules_allow_the_students_own_modules_and_future():
    assert check("no_imports") == (
        False, "line 1: import math\nline 2: from functools import reduce\n"
               "line 3: from statistics import *")
    own = "from __future__ import annotations\nimport helpers\nfrom . import other\n"
    assert check("no_imports", source=own) == (True, "")
    assert check("no_imports", source="m = __import__('os')\n") == (
        False, "line 1: calls __import__('os')")
    assert check("allowed_imports", names=["math", "functools", "statistics"]) == (True, "")
    assert check("allowed_imports", names=["os.path"], source="import os.path\nimport os\n"
                 "from os import path, system\n") == (
        False, "line 2: import os\nline 3: from os import system")


def test_the_teachers_message_comes_first():
    rule = parse_rule("no_loops", {"function": "fib_loop"}, "Use recursion.")
    ok, output = check_source(rule, SOURCE.encode(), filename="solution.py")
    assert not ok and output == "Use recursion.\nline 15: a for loop in fib_loop"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (b"def f(:\n    pass\n", "does not parse, so the rule cannot hold: invalid syntax"),
        (b"x = 1\n\xff\n", "is not UTF-8 text"),
        (b"1+" * 300_000 + b"1", "could not be parsed: maximum recursion depth exceeded"),
        (b"-" * 300_000 + b"1", "could not be parsed"),
        (b"x = " + b"(" * 300 + b")" * 300, "too many nested parentheses"),
    ],
)
def test_a_source_that_does_not_parse_fails_every_rule_with_the_reason(source, expected):
    for rule, params in [("no_loops", {}), ("recursive", {"function": "f"}),
                         ("forbidden_calls", {"names": ["sorted"]})]:
        ok, output = check_source(parse_rule(rule, params), source, filename="solution.py")
        assert not ok and expected in output


def test_a_deep_but_parseable_tree_is_walked_without_recursion():
    source = "x = " + "[" * 190 + "]" * 190 + "\n" + "y = " + "+".join(["a"] * 900) + "\n"
    for rule, params in [("no_loops", {}), ("forbidden_calls", {"names": ["sorted"]}),
                         ("max_lines", {"max": 5}), ("no_imports", {})]:
        assert check(rule, source=source, **params)[0], rule


@pytest.mark.parametrize(
    ("rule", "params", "message"),
    [
        ("no_loop", {}, "rule must be one of ['allowed_imports', 'defines'"),
        ("no_loops", {"names": ["x"]}, "unknown keys ['names'] for rule 'no_loops'; its keys: "
                                       "allow_comprehensions, function"),
        ("forbidden_calls", {}, "rule 'forbidden_calls' needs names"),
        ("forbidden_calls", {"names": "sorted"}, "names must be a non-empty list of names"),
        ("forbidden_calls", {"names": []}, "names must be a non-empty list"),
        ("forbidden_calls", {"names": ["not a name"]}, "names must be"),
        ("recursive", {}, "rule 'recursive' needs function"),
        ("recursive", {"function": "a.b.c"}, 'function must be a function name, e.g. "fib"'),
        ("max_lines", {"max": 0}, "max must be a whole number of at least 1"),
        ("max_lines", {"max": True}, "max must be a whole number"),
        ("no_loops", {"allow_comprehensions": "yes"}, "allow_comprehensions must be true or false"),
        ("no_imports", {"names": ["math"]}, "unknown keys ['names'] for rule 'no_imports'"),
    ],
)
def test_bad_rules_and_keys_are_a_package_error_at_upload(tmp_path, rule, params, message):
    lines = [f"{key} = {json.dumps(value)}" for key, value in params.items()]
    toml = (
        'title = "T"\nlanguage = "python"\nsubmission = "solution.py"\n'
        f'[[tests]]\ntype = "static"\nrule = "{rule}"\n' + "\n".join(lines) + "\n"
    )
    (tmp_path / "assignment.toml").write_text(toml)
    with pytest.raises(PackageError) as info:
        load_package(tmp_path)
    assert str(info.value).startswith("tests[0]: ") and message in str(info.value)


def test_static_tests_need_python_and_a_string_message(tmp_path):
    base = 'title = "T"\nlanguage = "{lang}"\nsubmission = "{file}"\n[[tests]]\ntype = "static"\n' \
           'rule = "no_imports"\n'
    (tmp_path / "assignment.toml").write_text(base.format(lang="c", file="main.c"))
    with pytest.raises(PackageError, match='static tests need language = "python"'):
        load_package(tmp_path)
    (tmp_path / "assignment.toml").write_text(
        base.format(lang="python", file="solution.py") + "message = 3\n")
    with pytest.raises(PackageError, match="tests.0..message must be a string"):
        load_package(tmp_path)


def test_the_example_package_parses_its_static_tests_with_names_and_points():
    package = load_package(PACKAGE)
    static = [t for t in package.tests if t.type == "static"]
    assert [t.name for t in static] == [
        "defines total, reverse", "total is recursive", "reverse is recursive", "no loops",
        "no built-in shortcuts", "no imports",
    ]
    assert static[1].static is not None and static[1].static.options == {"function": "total"}
    assert static[-1].visibility == "hidden" and static[1].points == 2
    assert set(RULES) == {"no_loops", "forbidden_calls", "recursive", "defines", "max_lines",
                          "no_imports", "allowed_imports"}


@pytest.mark.sandbox
def test_sandbox_grade_scores_static_rules_beside_pytest_tests(backend):
    package = load_package(PACKAGE)
    report = grade(package, {"solution.py": (SUBMISSIONS / "loops.py").read_bytes()}, backend)
    static = {t.name: t for t in report.tests if t.kind == "static"}
    assert report.ungradable is None and report.score == 10 and report.max_score == 18
    assert all(t.passed for t in report.tests if t.kind == "pytest")  # it works, with loops
    assert not static["total is recursive"].passed and static["total is recursive"].score == 0
    assert static["no loops"].output == (
        "Use recursion instead of for/while loops and comprehensions.\nline 7: a for loop")
    assert "line 2: calls sum()" in static["no built-in shortcuts"].output
    assert static["no imports"].passed and static["no imports"].visibility == "hidden"


@pytest.mark.sandbox
def test_a_submission_that_does_not_parse_is_a_compile_error_for_static_tests_too(backend):
    package = load_package(PACKAGE)
    report = grade(package, {"solution.py": b"def total(xs:\n    return 0\n"}, backend)
    assert report.gradable is False and report.score == 0
    assert {t.verdict for t in report.tests if t.kind == "static"} == {"compile_error"}


@pytest.mark.sandbox
def test_static_rules_never_run_the_students_code(backend, tmp_path):
    """A file that would leave a mark when run: the static test passes and no mark appears."""
    marker = tmp_path / "ran"
    (tmp_path / "assignment.toml").write_text(
        'title = "T"\nlanguage = "python"\nsubmission = "solution.py"\n'
        '[[tests]]\ntype = "static"\nrule = "defines"\nnames = ["f"]\n')
    source = f"open({str(marker)!r}, 'w').write('x')\ndef f():\n    return 1\n".encode()
    report = grade(load_package(tmp_path), {"solution.py": source}, backend)
    assert [t.verdict for t in report.tests] == ["passed"] and not marker.exists()


@pytest.mark.sandbox
@pytest.mark.parametrize(("submission", "score"), [("correct.py", 18), ("loops.py", 10),
                                                    ("wrong.py", 10)])
def test_manage_py_grade_scores_the_recursion_assignment(submission, score):
    proc = subprocess.run(
        [sys.executable, "manage.py", "grade", str(PACKAGE), str(SUBMISSIONS / submission),
         "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["score"], out["max_score"]) == (score, 18)
    static = {t["name"]: t for t in out["tests"] if t["name"] in ("no loops", "no imports")}
    assert set(static) == {"no loops", "no imports"}
    if submission == "wrong.py":
        reverse = next(t for t in out["tests"] if t["name"] == "no built-in shortcuts")
        assert reverse["status"] == "failed" and "line 8: calls list.reverse()" in reverse["output"]
