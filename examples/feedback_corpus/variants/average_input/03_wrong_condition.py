total = 0
count = 0
lowest = None
line = input()
while line != "done":
    value = int(line)
    total += value
    count += 1
    if lowest is None or value < lowest:
        lowest = value
    line = input()
if total == 0:
    print("no numbers")
else:
    print("count:", count)
    print(f"average: {total / count:.2f}")
    print("lowest:", lowest)
