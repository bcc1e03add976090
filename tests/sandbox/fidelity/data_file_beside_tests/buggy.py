def count_words(path):
    with open(path) as fh:
        return len(fh.readlines()) - 1


def longest_word(path):
    with open(path) as fh:
        return min(fh.read().split(), key=len)
