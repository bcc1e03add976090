def stop(code):
    exit(code)


if __name__ == "__main__":
    n = int(input())
    print(n * n)
    quit()
