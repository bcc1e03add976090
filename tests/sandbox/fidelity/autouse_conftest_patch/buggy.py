def answer():
    return int(input("Answer: ")) + 1
