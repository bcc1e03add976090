# expect: output_limit
# One file past RLIMIT_FSIZE: Python ignores SIGXFSZ, so the write fails with EFBIG.
with open("/work/big.bin", "wb") as f:
    while True:
        f.write(b"\0" * (1 << 20))
