import sys


def count_words(path):
    counts = {}
    with open(path) as fh:
        for word in fh.read().lower().split():
            word = word.strip(".,;:!?")
            if word:
                counts[word] = counts.get(word, 0) + 1
    return counts


def write_report(counts, path):
    with open(path, "w") as fh:
        for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            fh.write(f"{word} {count}\n")


if __name__ == "__main__":
    write_report(count_words(sys.argv[1]), sys.argv[2])
