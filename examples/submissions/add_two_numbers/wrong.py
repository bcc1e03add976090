def add(a, b):
    if a < 0:
        return b - a  # bug: wrong sign for negative a
    return a + b


if __name__ == "__main__":
    x, y = map(int, input().split())
    print(add(x, y))
