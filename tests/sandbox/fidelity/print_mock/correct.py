def greet(name):
    print(f"Hello, {name}!")


def farewell(name):
    print(f"Bye, {name}.")
    print("See you soon.")
