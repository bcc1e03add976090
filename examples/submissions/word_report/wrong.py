import sys


def count_words(path):
    counts = {}
    for word in open(path).read().split():
        counts[word] = counts.get(word, 0) + 1
    return counts


def write_report(counts, path):
    out = open(path, "w")
    for word in sorted(counts, key=counts.get, reverse=True):
        out.write(word + " " + str(counts[word]) + "\n")
    out.close()


if __name__ == "__main__":
    write_report(count_words(sys.argv[1]), "report.txt")
