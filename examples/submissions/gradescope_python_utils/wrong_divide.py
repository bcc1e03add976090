def add(a, b):
    return a + b


def subtract(a, b):
    return a - b


def multiply(a, b):
    return a * b


def divide(a, b):
    if b == 0:
        return 0  # wrong: should raise ZeroDivisionError
    return a // b  # wrong: integer division


def evaluate(expression):
    left, operator, right = expression.split()
    operations = {"+": add, "-": subtract, "*": multiply, "/": divide}
    return operations[operator](float(left), float(right))
