# expect: passed
# Red team: 3000 nested folders in /work made the grader's copy, chown and cleanup recurse
# (RecursionError) and leave the workspace behind. The path is longer than PATH_MAX too.
import os

fd = os.open("/work", os.O_RDONLY)
for _ in range(3000):
    os.mkdir("d", dir_fd=fd)
    below = os.open("d", os.O_RDONLY, dir_fd=fd)
    os.close(fd)
    fd = below
with open(os.open("bottom.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
    f.write("the bottom")
print("3000 levels")
