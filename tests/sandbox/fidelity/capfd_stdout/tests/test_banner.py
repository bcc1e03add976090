"""capfd (file-descriptor capture) around student prints."""

import solution


def test_banner(capfd):
    solution.banner("hi")
    out, err = capfd.readouterr()
    assert out == "** hi **\n"
    assert err == ""
