numbers = [int(x) for x in input().split()]
best = 0  # bug: fails when every number is negative
for n in numbers:
    if n > best:
        best = n
print(best if numbers else "empty")
