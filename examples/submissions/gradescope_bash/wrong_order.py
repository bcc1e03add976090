import sys

for i in range(1, int(sys.argv[1]) + 1):
    if i % 3 == 0:  # wrong: checks 3 before 15, so FizzBuzz never prints
        print("Fizz")
    elif i % 5 == 0:
        print("Buzz")
    elif i % 15 == 0:
        print("FizzBuzz")
    else:
        print(i)
