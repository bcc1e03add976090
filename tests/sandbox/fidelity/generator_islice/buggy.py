def squares():
    n = 1
    while True:
        yield n * n
        n += 1
