n = int(input())
row = 1
while row <= n:
    line = ""
    k = 1
    while k <= row:
        line += str(k) + " "
    print(line.strip())
    row += 1
