import sys

if len(sys.argv) < 2:
    print("usage: solution.py WORD...")
    sys.exit(2)
for word in sys.argv[1:]:
    print(word.upper())
