"""builtins.input patched with monkeypatch, as the student's code sees it."""

import solution


def test_doubles_the_number_typed(monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt="": "21")
    assert solution.ask_and_double() == 42


def test_the_prompt_is_passed_to_input(monkeypatch):
    prompts = []

    def fake_input(prompt=""):
        prompts.append(prompt)
        return "1"

    monkeypatch.setattr("builtins.input", fake_input)
    solution.ask_and_double()
    assert prompts == ["Number: "]
