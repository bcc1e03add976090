"""Voting, parsing and cleanup on plain data: no Django, no model."""

from __future__ import annotations

import json

from feedback.sbfl import ochiai, ranked
from feedback.voting import clean_text, extract_json, parse_sample, vote

CODE = "def add(a, b):\n    if a < 0:\n        return b - a\n    return a + b\n"


def sample(line, category="wrong_operator", steps=("a is negative",), hint="check the sign"):
    return json.dumps({"line": line, "category": category, "steps": list(steps), "hint": hint})


def test_json_is_found_inside_prose_and_code_fences():
    text = 'Sure! Here it is:\n```json\n{"line": 3, "category": "off_by_one"}\n```\nBye'
    assert extract_json(text) == {"line": 3, "category": "off_by_one"}


def test_only_the_answer_after_thinking_is_searched():
    text = '<think>maybe {"line": 1}</think>{"line": 3}'
    assert extract_json(text) == {"line": 3}


def test_truncated_json_still_yields_line_and_category():
    v = parse_sample('{"line": 3, "category": "wrong_operator", "steps": ["a', max_line=4)
    assert v is not None and v.line == 3 and v.category == "wrong_operator"


def test_prose_answer_with_a_line_number_counts():
    v = parse_sample("The bug is on line 2, a wrong condition.", max_line=4)
    assert v is not None and (v.line, v.category) == (2, "wrong_condition")


def test_lines_outside_the_file_and_answers_without_a_line_are_not_votes():
    assert parse_sample(sample(40), max_line=4) is None
    assert parse_sample("I do not know.", max_line=4) is None
    assert parse_sample('{"line": "zero"}', max_line=4) is None


def test_unknown_categories_become_other_and_aliases_are_mapped():
    assert parse_sample(sample(3, "TestException"), max_line=4).category == "other"
    assert parse_sample(sample(3, "Off-by-one"), max_line=4).category == "off_by_one"


def test_majority_wins_and_agreement_counts_unparseable_samples_against_it():
    texts = [sample(3), sample(3), sample(2, "wrong_condition"), "garbage"]
    result = vote(texts, code=CODE)
    assert (result.line, result.category) == (3, "wrong_operator")
    assert result.votes == 2 and result.samples == 4 and result.agreement == 0.5
    assert result.parsed[3] is None and result.parsed[0]["line"] == 3


def test_same_line_with_another_category_is_another_group():
    texts = [sample(3, "wrong_operator"), sample(3, "wrong_return"), sample(3, "wrong_return")]
    result = vote(texts, code=CODE)
    assert result.category == "wrong_return" and result.votes == 2


def test_a_tie_goes_to_the_line_fault_localization_ranks_higher():
    texts = [sample(2, "wrong_condition"), sample(3)]
    assert vote(texts, code=CODE, suspiciousness={3: 1.0, 2: 0.7}).line == 3
    assert vote(texts, code=CODE, suspiciousness={3: 0.2, 2: 0.7}).line == 2


def test_the_representative_is_the_majority_sample_closest_to_the_others():
    texts = [
        sample(3, steps=["for a negative a it computes b minus a"]),
        sample(3, steps=["the moon is made of cheese and nothing else"]),
        sample(3, steps=["for negative a it computes b minus a instead"]),
    ]
    explanation = vote(texts, code=CODE).explanation
    assert "cheese" not in explanation and "minus" in explanation


def test_no_parseable_sample_gives_no_verdict_and_zero_agreement():
    result = vote(["nothing", "still nothing"], code=CODE)
    assert result.line is None and result.agreement == 0 and result.samples == 2


def test_cleanup_removes_code_blocks_and_rewritten_lines_but_keeps_quotes():
    text = "Line 3 returns `return b - a`.\n```python\nreturn a + b\n```\nreturn a + b - 0"
    cleaned, removed = clean_text(text, CODE)
    assert "```" not in cleaned and "a + b - 0" not in cleaned
    assert "return b - a" in cleaned  # a quote of the student's own line is allowed
    assert removed == 2


def test_vote_counts_what_the_cleanup_removed():
    leaky = json.dumps(
        {"line": 3, "category": "wrong_operator", "steps": ["```\nreturn a + b\n```"], "hint": "x"}
    )
    result = vote([leaky, leaky], code=CODE)
    assert result.removed == 2 and "return a + b" not in result.explanation


def test_ochiai_ranks_the_line_only_failing_tests_run_first():
    spectra = [({1, 2, 4}, True), ({1, 2, 3}, False), ({1, 2, 4}, True)]
    scores = ochiai(spectra)
    assert scores[3] == 1.0 and scores[4] == 0.0
    assert 0 < scores[1] < 1 and scores[1] == scores[2]
    assert ranked(scores, top=2) == [(3, 1.0), (1, scores[1])]


def test_ochiai_without_failing_tests_suspects_nothing():
    assert ochiai([({1, 2}, True)]) == {}
