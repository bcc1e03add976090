def print_table(n):
    for i in range(n):
        print(i)
