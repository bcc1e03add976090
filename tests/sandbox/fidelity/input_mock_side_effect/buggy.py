def add_two():
    n = int(input())
    return n + n


def read_words():
    words = []
    while True:
        word = input()
        words.append(word)
        if not word:
            return words
