def print_table(n):
    for i in range(1, n + 1):
        print(i)
