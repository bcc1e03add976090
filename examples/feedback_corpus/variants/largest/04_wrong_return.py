def largest(numbers):
    if not numbers:
        return None
    best = numbers[0]
    for n in numbers[1:]:
        if n > best:
            best = n
    return n


numbers = [int(x) for x in input().split()]
result = largest(numbers)
if result is None:
    print("empty")
else:
    print(result)
