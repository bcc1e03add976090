def reverse(text):
    return text.encode("utf-8")[::-1].decode("utf-8", "replace")


def length(text):
    return len(text.encode("utf-8"))


def greet(name):
    print(f"Hola, {name}!")
