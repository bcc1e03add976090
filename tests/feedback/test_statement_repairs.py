"""Statement-level candidate repairs (``feedback/statements.py``) on plain data, and the
tie-breaks of the vote between several validated lines: no Django, no sandbox, no model.

Each program below is written the way a beginner writes the bug; the test checks that the fix a
teacher would make is among the candidates, on the line a teacher would point at.
"""

from __future__ import annotations

from feedback.repair import Repair, search_candidates
from feedback.validation import VALIDATED, Checked
from feedback.verdict import GroundingTest, decide


def candidates(code: str, lines: list[int]) -> list[Repair]:
    return search_candidates(code, lines, limit=400, per_line=400)


def fixes(code: str, lines: list[int], operator: str) -> set[tuple[int, str]]:
    return {(r.line, r.apply(code)) for r in candidates(code, lines) if r.operator == operator}


def test_a_function_that_forgets_the_empty_input_gets_a_guard_before_its_first_line():
    code = ("def average(scores):\n    total = 0\n    for s in scores:\n        total += s\n"
            "    return total / len(scores)\n")
    fixed = ("def average(scores):\n    if not scores:\n        return 0\n    total = 0\n"
             "    for s in scores:\n        total += s\n    return total / len(scores)\n")
    assert (2, fixed) in fixes(code, [4], "guard")


def test_a_guard_is_not_proposed_for_a_parameter_the_function_already_tests():
    code = "def first(xs):\n    if not xs:\n        return None\n    return xs[1]\n"
    assert not [f for f in fixes(code, [4], "guard") if "if not xs:\n        return" in
                f[1].split("if not xs:", 1)[1]]


def test_a_while_loop_whose_counter_never_moves_gets_the_update_at_the_end_of_its_body():
    code = ("n = int(input())\nrow = 1\nwhile row <= n:\n    line = ''\n    k = 1\n"
            "    while k <= row:\n        line += str(k) + ' '\n    print(line.strip())\n"
            "    row += 1\n")
    found = {(r.line, r.apply(code)) for r in candidates(code, [7])
             if r.operator in ("loop_update", "insert")}  # the counter rule may find it first
    assert any(ln == 8 and "        line += str(k) + ' '\n        k += 1\n    print" in text
               for ln, text in found)
    assert any(ln == 8 and "        row += 1\n    print" in text
               for ln, text in fixes(code, [7], "loop_update"))


def test_a_loop_that_never_reads_its_next_input_gets_the_read_again():
    code = ("total = 0\nline = input()\nwhile line != 'done':\n    total += int(line)\n"
            "print(total)\n")
    found = fixes(code, [4], "loop_update")
    assert (5, "total = 0\nline = input()\nwhile line != 'done':\n    total += int(line)\n"
               "    line = input()\nprint(total)\n") in found


def test_a_mutable_default_becomes_none_and_is_made_inside_the_function():
    code = ("def unique(items, seen=[]):\n    for x in items:\n        if x not in seen:\n"
            "            seen.append(x)\n    return seen\n")
    [(line, fixed)] = fixes(code, [4], "mutable_default")
    assert line == 1 and fixed.startswith(
        "def unique(items, seen=None):\n    if seen is None:\n        seen = []\n    for x in")


def test_a_recursive_base_case_off_by_one_changes_its_test_and_its_result_together():
    code = ("def power(base, exp):\n    if exp == 1:\n        return base\n"
            "    return base * power(base, exp - 1)\n")
    found = fixes(code, [4], "base_case")
    assert (2, "def power(base, exp):\n    if exp == 0:\n        return 1\n"
               "    return base * power(base, exp - 1)\n") in found


def test_single_line_rewrites_beginners_need():
    def texts(code: str, line: int) -> set[str]:
        return {r.text.strip() for r in candidates(code, [line])}

    assert "if not numbers:" in texts("def f(numbers):\n    if numbers:\n        return 0\n", 2)
    assert "if ch.isalpha():" in texts(
        "def f(t):\n    out = ''\n    for ch in t:\n        if ch != ' ':\n"
        "            out += ch\n    return out\n", 4)
    assert "for ch in text.lower():" in texts(
        "def f(text):\n    n = 0\n    for ch in text:\n        if ch in 'aeiou':\n"
        "            n += 1\n    return n\n", 3)
    assert "if numbers[i] > numbers[best]:" in texts(
        "def f(numbers):\n    best = 0\n    for i in range(len(numbers)):\n"
        "        if numbers[i] > best:\n            best = i\n    return best\n", 4)
    assert "return n * fact(n - 1)" in texts(
        "def fact(n):\n    if n == 0:\n        return 1\n    return n * fact(n)\n", 4)
    assert "best = numbers[0]" in texts(
        "def f(numbers):\n    best = 0\n    for x in numbers:\n        if x > best:\n"
        "            best = x\n    return best\n", 2)
    assert "return n" in texts("def f(n):\n    if n < 10:\n        return 0\n    return 1\n", 3)


def test_every_statement_candidate_compiles_and_is_new():
    code = ("def f(xs, acc=[]):\n    i = 0\n    while i < len(xs):\n        acc.append(xs[i])\n"
            "    return acc\n")
    seen = set()
    for r in candidates(code, [4, 3, 2]):
        patched = r.apply(code)
        compile(patched, "<t>", "exec")
        assert patched != code and patched not in seen
        seen.add(patched)


FAILING = [GroundingTest("t1", True, "abba\n", "True\n", "False")]
PALINDROME = ("def is_pal(letters):\n    left = 0\n    right = len(letters)\n"
              "    while left < right:\n        if letters[left] != letters[right]:\n"
              "            return False\n        left += 1\n        right -= 1\n    return True\n")


def validated(line: int, text: str, operator: str = "plus_minus_one", end: int = 0) -> Checked:
    return Checked(Repair(line, text, operator, "off_by_one", end=end), VALIDATED, ["t1"])


def test_between_two_validated_lines_the_one_that_makes_the_value_wins():
    use = validated(5, "        if letters[left] != letters[right - 1]:")
    made = validated(3, "    right = len(letters) - 1")
    v = decide(code=PALINDROME, samples=[], model_checks={}, search_checks=[use, made],
               suspiciousness={5: 1.0, 3: 0.9}, tests=FAILING)
    assert v.line == 3  # not the more suspicious line 5, which only compensates


def test_between_two_validated_lines_the_smaller_repair_wins():
    code = ("def digits(n):\n    if n < 10:\n        return 0\n"
            "    return n % 10 + digits(n // 10)\n")
    one_line = validated(3, "        return n", "return_value")
    two_lines = validated(2, "    if n < 9:\n        return n", "base_case", end=3)
    v = decide(code=code, samples=[], model_checks={}, search_checks=[two_lines, one_line],
               suspiciousness={2: 1.0, 3: 0.5}, tests=FAILING)
    assert v.line == 3


def test_the_condition_that_decides_a_suspicious_branch_is_searched_right_after_it():
    from feedback.statements import with_control_parents

    code = ("total = 0\ncount = 0\nfor x in [1]:\n    total += x\n    count += 1\n"
            "if total == 0:\n    print('none')\nelse:\n    print(total / count)\n")
    assert with_control_parents(code, [7, 4, 1]) == [7, 6, 4, 3, 1]
    assert with_control_parents(code, [9]) == [9, 6]  # an else branch: its if decides it


def test_a_killed_failing_test_puts_the_loop_edits_first():
    code = ("def index_of_max(xs):\n    best = 0\n    i = 1\n    while i < len(xs):\n"
            "        if xs[i] > xs[best]:\n            best = i\n            i += 1\n"
            "    return best\n")
    plain = search_candidates(code, [5, 7], limit=400, per_line=400)
    looping = search_candidates(code, [5, 7], limit=400, per_line=400, looping=True)
    assert sorted(map(repr, plain)) == sorted(map(repr, looping))  # the same, reordered
    dedent = next(i for i, r in enumerate(looping) if r.operator == "indent" and r.line == 7
                  and r.text == "        i += 1")
    assert all(r.operator in ("loop_update", "indent", "move", "insert")
               for r in looping[:dedent])
    assert dedent < next(i for i, r in enumerate(plain) if r.text == "        i += 1")


def test_a_branch_with_a_validated_fix_beats_the_condition_that_only_routes_around_it():
    code = "def add(a, b):\n    if a < 0:\n        return b - a\n    return a + b\n"
    around = [validated(2, "    if a < -9:"), validated(2, "    if not (a < 0):"),
              validated(2, "    if a == 0:")]
    fix = validated(3, "        return b + a", "arithmetic")
    v = decide(code=code, samples=[], model_checks={}, search_checks=[*around, fix],
               suspiciousness={2: 1.0, 3: 1.0}, tests=FAILING)
    assert v.line == 3  # three validated voters on the condition do not outvote the real fix
