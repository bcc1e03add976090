"""The repair search and the validated vote on plain data: no Django, no sandbox, no model."""

from __future__ import annotations

from feedback.repair import Repair, changed_fragment, model_repair, search_candidates
from feedback.validation import PARTIAL, REJECTED, VALIDATED, Checked
from feedback.verdict import GroundingTest, decide, leak_guard, reproduces_repair
from feedback.voting import SampleVerdict

ADD = "def add(a, b):\n    if a < 0:\n        return b - a\n    return a + b\n"
LOOP = ("def count_up(n):\n    out = []\n    for i in range(1, n):\n        out.append(i)\n"
        "    return out\n")
EARLY = ("def has_even(xs):\n    for x in xs:\n        if x % 2 == 0:\n            return True\n"
         "        return False\n")


def texts(code: str, line: int) -> set[str]:
    return {r.text.strip() for r in search_candidates(code, [line], limit=200, per_line=200)}


def test_operators_constants_and_swaps_are_mutated_on_the_line():
    found = texts(ADD, 3)
    assert {"return b + a", "return a - b", "return b * a"} <= found
    assert {"if a <= 0:", "if a > 0:", "if a < 1:"} <= texts(ADD, 2)


def test_range_bounds_get_plus_and_minus_one():
    found = texts(LOOP, 3)
    assert {"for i in range(1, n + 1):", "for i in range(0, n):", "for i in range(1, n - 1):"} \
        <= found


def test_a_return_inside_the_loop_can_move_out_of_it():
    assert "return False" in {r.text.strip() for r in search_candidates(EARLY, [5])
                              if r.operator == "indent" and r.text.startswith("    return")}


def test_every_candidate_parses_and_differs_and_the_budget_holds():
    candidates = search_candidates(LOOP, [3, 4, 2, 5], limit=25)
    assert 0 < len(candidates) <= 25
    assert len({r.apply(LOOP) for r in candidates}) == len(candidates)
    assert all(r.apply(LOOP) != LOOP for r in candidates)
    for r in candidates:
        compile(r.apply(LOOP), "<candidate>", "exec")  # parses (compiled, never run)


def test_a_model_repair_without_indentation_is_reindented_and_junk_is_refused():
    r = model_repair(ADD, 3, "return a + b", "wrong_operator")
    assert r is not None and r.text == "        return a + b" and r.source == "model"
    assert model_repair(ADD, 3, "return b - a", "other") is None  # changes nothing
    assert model_repair(ADD, 3, "return (", "other") is None  # does not parse
    assert model_repair(ADD, 40, "x = 1", "other") is None  # not a line of the file


def test_the_changed_fragment_is_what_a_leak_would_spell_out():
    assert changed_fragment("        return b - a", "        return b + a") == "b + a"


def test_the_leak_guard_removes_sentences_that_give_the_fix_away():
    repair = Repair(3, "        return b + a", "arithmetic", "wrong_operator")
    text = "Line 3 subtracts. You should write b + a there. Check the sign."
    cleaned, removed = leak_guard(text, ADD, [repair])
    assert removed == 1 and "b + a" not in cleaned and "Check the sign." in cleaned
    assert not reproduces_repair(cleaned, ADD, [repair])
    # quoting the student's own line is not a leak
    assert not reproduces_repair("Line 3 says `return b - a`.", ADD, [repair])


def checked(line: int, text: str, status: str, fixed: tuple[str, ...] = ("t1",)) -> Checked:
    return Checked(Repair(line, text, "arithmetic", "wrong_operator"), status, list(fixed))


FAILING = [GroundingTest("t1", True, "-1 1\n", "0\n", "line 1: expected '0', got '2'"),
           GroundingTest("secret case [7-4]", False, "-7 4\n", "-3\n", "got 11")]


def test_validated_votes_beat_a_model_majority_and_set_the_confidence():
    samples = [SampleVerdict(4, "wrong_operator", steps=["x"]) for _ in range(3)]
    search = [checked(3, "        return b + a", VALIDATED), checked(3, "        pass", VALIDATED),
              checked(2, "    if a > 9:", REJECTED)]
    v = decide(code=ADD, samples=samples, model_checks={}, search_checks=search,
               suspiciousness={3: 0.8}, tests=FAILING)
    assert (v.line, v.verification) == (3, VALIDATED)
    assert (v.votes, v.voters) == (2, 5) and v.agreement == 2 / 5  # 3 samples + 2 validated
    assert v.repair == "        return b + a" and v.source == "template"
    assert v.grounding == "t1" and "-1 1" in v.explanation and not v.leaked


def test_without_a_checked_repair_the_verdict_is_unverified_with_zero_confidence():
    samples = [SampleVerdict(3, "wrong_operator", steps=["b - a is wrong"])] * 2
    v = decide(code=ADD, samples=samples, model_checks={}, search_checks=[],
               suspiciousness={}, tests=FAILING)
    assert v.line == 3 and v.verification == "unverified" and v.agreement == 0.0


def test_a_partial_fix_is_partial_and_a_hidden_test_reveals_nothing():
    search = [checked(3, "        return b + a", PARTIAL, fixed=("secret case [7-4]",))]
    v = decide(code=ADD, samples=[], model_checks={}, search_checks=search,
               suspiciousness={}, tests=FAILING[1:])
    assert v.verification == PARTIAL and v.grounding == ""
    assert "hidden test" in v.explanation
    for secret in ("-7 4", "secret case", "[7-4]", "11", "-3"):
        assert secret not in v.explanation + v.hint


def test_probes_give_the_values_at_the_line_for_a_visible_test_only():
    search = [checked(3, "        return b + a", VALIDATED)]
    seen = []

    def probes_for(line, test):
        seen.append((line, test.name))
        return [{"a": "-1", "b": "1"}]

    v = decide(code=ADD, samples=[], model_checks={}, search_checks=search, suspiciousness={},
               tests=FAILING, probes_for=probes_for)
    assert seen == [(3, "t1")] and "a = -1, b = 1" in v.explanation


def test_ordinary_words_are_not_mistaken_for_a_leaked_repair():
    deleted = Repair(3, "        pass", "delete", "other")
    assert not reproduces_repair("Changing this line makes the tests pass.", ADD, [deleted])
    plus = Repair(3, "        return b + a", "arithmetic", "wrong_operator")
    assert reproduces_repair("Try b+a here.", ADD, [plus])  # whatever the spacing
    assert reproduces_repair("Write return b + a.", ADD, [plus])
    assert not reproduces_repair("Line 3 computes b - a.", ADD, [plus])  # the student's own


COUNTER = ("def count_pos(xs):\n    count = 0\n    for x in xs:\n        if x > 0:\n"
           "            print(x)\n    return count\n")
RESET = ("def running(xs):\n    out = []\n    for x in xs:\n        s = 0\n        s += x\n"
         "        out.append(s)\n    return out\n")


def test_a_counter_never_increased_gets_an_increment_after_a_suspicious_line():
    inserts = [r for r in search_candidates(COUNTER, [4], per_line=80) if r.operator == "insert"]
    # shown as missing before line 5, the line a student reads next
    assert [(r.line, r.text) for r in inserts] == [(5, "            count += 1\n"
                                                       "            print(x)")]
    assert "        if x > 0:\n            count += 1\n            print(x)" in inserts[0].apply(
        COUNTER)


def test_expression_operators_cover_everyday_slips():
    assert "total += n" in texts("def f(xs):\n    total = 0\n    for n in xs:\n"
                                 "        total = n\n    return total\n", 4)
    loop = "def f(xs):\n    for s in range(len(xs)):\n        print(s)\n"
    assert "for s in xs:" in texts(loop, 2)
    assert "for i in range(1, n + 1):" in texts("n = 3\nfor i in range(n):\n    print(i)\n", 2)
    rev = "def r(t):\n    return t[0] + r(t[1:])\n"
    assert "return r(t[1:]) + t[0]" in texts(rev, 2)
    assert "for n in numbers[1:]:" in texts("numbers = [1]\nfor n in numbers[1:-1]:\n"
                                            "    print(n)\n", 2)
    fstr = 'total, count = 1, 2\nprint(f"average: {total // count:.2f}")\n'
    assert 'print(f"average: {total / count:.2f}")' in texts(fstr, 2)
    leap = ("def f(y):\n    if y % 400 == 0:\n        return 1\n    if y % 4 == 0:\n"
            "        return 2\n")
    assert "if y % 400 == 0:" in texts(leap, 4)  # another constant of the program


def test_an_accumulator_reset_inside_the_loop_can_move_before_it():
    [move] = [r for r in search_candidates(RESET, [4], per_line=80) if r.operator == "move"]
    assert (move.line, move.end) == (3, 4)
    assert "    s = 0\n    for x in xs:\n        s += x" in move.apply(RESET)


def test_identity_membership_and_discarded_string_results_are_mutated():
    code = ('line = input()\nwhile line is not "done":\n    line.strip()\n'
            '    if line in seen:\n        pass\n')
    assert "while line != \"done\":" in texts(code, 2)
    assert "line = line.strip()" in texts(code, 3)
    assert "if line not in seen:" in texts(code, 4)
    assert "line = input().lower()" in texts(code, 1)
