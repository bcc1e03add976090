import time

time.sleep(2)  # long enough for a fault to land mid-grade, far inside the 10 s wall limit
print(input())
