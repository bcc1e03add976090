def is_leap(year):
    if year % 400 == 0:
        return True
    if year % 100 == 0:
        return False
    return year % 4 == 0


n = int(input())
for _ in range(n):
    leaps = 0
    year = int(input())
    if is_leap(year):
        print(year, "leap")
        leaps += 1
    else:
        print(year, "common")
print("leap years:", leaps)
