"""capsys around student prints, read twice in one test."""

import solution


def test_table_prints_one_number_a_line(capsys):
    solution.print_table(3)
    assert capsys.readouterr().out == "1\n2\n3\n"


def test_each_call_is_read_separately(capsys):
    solution.print_table(1)
    assert capsys.readouterr().out == "1\n"
    solution.print_table(2)
    assert capsys.readouterr() == ("1\n2\n", "")
