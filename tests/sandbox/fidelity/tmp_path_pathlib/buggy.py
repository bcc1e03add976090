from pathlib import Path


def copy_upper(source, target):
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(Path(source).read_text().title())


def total_size(folder):
    return sum(p.stat().st_size for p in Path(folder).glob("*") if p.is_file())
