numbers = [int(x) for x in input().split()]
print(max(numbers) if numbers else "empty")
