def stop(code):
    exit(code + 1)


if __name__ == "__main__":
    n = int(input())
    print(n + n)
    quit()
