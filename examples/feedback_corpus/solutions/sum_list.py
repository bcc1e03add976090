def total(numbers):
    result = 0
    for n in numbers:
        result += n
    return result


numbers = [int(x) for x in input().split()]
print(total(numbers))
