def answer():
    return int(input("Answer: "))
