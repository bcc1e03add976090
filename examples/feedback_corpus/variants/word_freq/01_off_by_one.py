text = input().lower()
counts = {}
order = []
for word in text.split():
    word = word.strip(".,!?")
    if word in counts:
        counts[word] += 1
    else:
        counts[word] = 0
        order.append(word)
for word in order:
    print(word, counts[word])
