# expect: output_limit
# Red team: fill /work past its cap, ignore ENOSPC and exit 0 as if nothing happened. The kernel
# refuses the writes at the cap; the backend measures the space again at exit and sees it full.
n = 0
try:
    while True:
        with open(f"/work/fill_{n}", "wb") as f:
            f.write(b"\1" * (1 << 20))
        n += 1
except OSError:
    pass
print(f"ignored ENOSPC after {n} MB")
