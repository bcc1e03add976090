def add_two():
    return int(input()) + int(input())


def read_words():
    words = []
    while True:
        word = input()
        if not word:
            return words
        words.append(word)
