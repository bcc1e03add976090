# expect: passed
# The host environment must not reach the program: not in os.environ, not through /proc.
import os

print(dict(os.environ))
for path in ("/proc/1/environ", "/proc/self/environ", "/proc/1/cmdline"):
    try:
        print(path, open(path, "rb").read())
    except OSError as exc:
        print(path, exc)
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            print(pid, open(f"/proc/{pid}/environ", "rb").read())
        except OSError as exc:
            print(pid, exc)
