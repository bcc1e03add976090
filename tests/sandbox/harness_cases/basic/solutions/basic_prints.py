GREETING = "hello"
print("loading solution")


def add(a, b):
    print(f"adding {a} and {b}")
    return a + b


def divide(a, b):
    return a / b
