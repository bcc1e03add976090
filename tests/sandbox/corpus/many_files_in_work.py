# expect: output_limit
# Each file stays under RLIMIT_FSIZE; together they fill the disk unless /work growth is capped.
n = 0
while True:
    with open(f"/work/fill_{n}.bin", "wb") as f:
        f.write(b"\1" * (3 << 20))
    n += 1
