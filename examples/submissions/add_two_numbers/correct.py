def add(a, b):
    return a + b


if __name__ == "__main__":
    x, y = map(int, input().split())
    print(add(x, y))
