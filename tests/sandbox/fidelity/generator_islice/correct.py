def squares():
    n = 0
    while True:
        yield n * n
        n += 1
