import sys

try:
    a, b = map(int, input().split())
except ValueError:
    print("invalid input", file=sys.stderr)
    sys.exit(1)
print(a + b)
