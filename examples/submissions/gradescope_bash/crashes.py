import sys

n = int(sys.argv[1])
print(1 / n)  # wrong: crashes for N = 0, and prints nonsense otherwise
