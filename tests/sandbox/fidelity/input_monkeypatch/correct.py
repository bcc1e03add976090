def ask_and_double():
    return int(input("Number: ")) * 2
