def reverse(text):
    return text[::-1]


def length(text):
    return len(text)


def greet(name):
    print(f"¡Hola, {name}!")
