def total(numbers):
    result = 0
    i = 0
    while i < len(numbers):
        result += numbers[i]
    i += 1
    return result


numbers = [int(x) for x in input().split()]
print(total(numbers))
