def count_words(path):
    with open(path) as fh:
        return len(fh.read().split())


def longest_word(path):
    with open(path) as fh:
        return max(fh.read().split(), key=len)
