# expect: memory
# Red team: memfd pages are mapped by no process, so RLIMIT_AS never sees them (768 MB ran
# under a 128 MB limit). The run's memory cgroup counts them; each memfd stays under FSIZE.
import os

fds = []
for _ in range(192):
    fd = os.memfd_create("hoard")
    os.write(fd, b"\1" * (4 << 20))
    fds.append(fd)
print("hoarded", 4 * len(fds), "MB")
