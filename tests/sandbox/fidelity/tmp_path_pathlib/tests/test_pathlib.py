"""pathlib.Path objects from tmp_path passed to the student's code, which uses pathlib too."""

from solution import copy_upper, total_size


def test_copies_upper_case(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("hello\nworld\n")
    target = tmp_path / "out" / "upper.txt"
    copy_upper(source, target)
    assert target.read_text() == "HELLO\nWORLD\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out"]


def test_total_size_of_a_folder(tmp_path):
    (tmp_path / "a.bin").write_bytes(b"x" * 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.bin").write_bytes(b"y" * 5)
    assert total_size(tmp_path) == 15
