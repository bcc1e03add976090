def greet(name):
    print("Hello,", name + "!")


def farewell(name):
    print(f"Bye, {name}.")
    print("See you soon.")
