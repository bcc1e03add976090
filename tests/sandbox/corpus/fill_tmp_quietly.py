# expect: output_limit
# Red team: as fill_work_quietly.py, in /tmp: a full /tmp at exit is the same verdict.
n = 0
try:
    while True:
        with open(f"/tmp/fill_{n}", "wb") as f:
            f.write(b"\1" * (1 << 20))
        n += 1
except OSError:
    pass
print(f"ignored ENOSPC after {n} MB")
