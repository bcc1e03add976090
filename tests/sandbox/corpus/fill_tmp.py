# expect: output_limit
# /tmp is a private, size-capped tmpfs: filling it fails with ENOSPC and the host /tmp is untouched.
open("/tmp/pwned", "w").write("pwned")
n = 0
while True:
    with open(f"/tmp/fill_{n}", "wb") as f:
        f.write(b"\1" * (1 << 20))
    n += 1
