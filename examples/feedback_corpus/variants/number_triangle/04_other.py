n = int(input())
row = 1
line = ""
while row <= n:
    k = 1
    while k <= row:
        line += str(k) + " "
        k += 1
    print(line.strip())
    row += 1
