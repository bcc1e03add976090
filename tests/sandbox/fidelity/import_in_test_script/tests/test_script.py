"""A script-style module imported inside the test, after input() was patched."""


def test_the_script_doubles_what_is_typed(monkeypatch, capsys):
    monkeypatch.setattr("builtins.input", lambda prompt="": "4")
    import solution  # noqa: F401  (importing runs the script)

    assert capsys.readouterr().out == "8\n"
