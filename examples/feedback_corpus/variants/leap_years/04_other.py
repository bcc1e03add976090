def is_leap(year):
    if year % 400 == 0:
        return True
    if year % 100 == 0:
        return False
    return year % 4 == 0


n = int(input())
leaps = 0
for _ in range(n):
    year = int(input())
    if is_leap(year):
        print(year, "leap")
    else:
        print(year, "common")
print("leap years:", leaps)
