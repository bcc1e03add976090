def safe_div(a, b):
    if b == 0:
        print("error: division by zero")
        return None
    return a / b
