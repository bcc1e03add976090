def greet():
    name = input("Name: ")
    print("Welcome!")
    print(f"Hello, {name}!")
