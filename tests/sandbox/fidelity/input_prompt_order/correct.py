def greet():
    print("Welcome!")
    name = input("Name: ")
    print(f"Hello, {name}!")
