def repl():
    while True:
        line = input("> ")
        if line == "q":
            print("bye")
            return
        op, a, b = line.split()
        if op == "add":
            print(int(a) + int(b))
        elif op == "mul":
            print(int(a) * int(b))
        else:
            print("unknown command")
