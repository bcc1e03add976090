# expect: output_limit
open("/dev/shm/pwned", "w").write("pwned")
n = 0
while True:
    with open(f"/dev/shm/fill_{n}", "wb") as f:
        f.write(b"\1" * (1 << 20))
    n += 1
