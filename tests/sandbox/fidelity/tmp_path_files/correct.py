def count_words(path):
    with open(path) as fh:
        return len(fh.read().split())


def write_report(path, counts):
    with open(path, "w") as fh:
        for key, value in counts.items():
            fh.write(f"{key}={value}\n")
