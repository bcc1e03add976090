def total(numbers):
    result = 0
    for n in numbers:
        result += n
    return n


numbers = [int(x) for x in input().split()]
print(total(numbers))
