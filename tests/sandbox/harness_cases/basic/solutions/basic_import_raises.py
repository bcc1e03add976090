def add(a, b):
    return a + b


raise RuntimeError("this module refuses to load")
