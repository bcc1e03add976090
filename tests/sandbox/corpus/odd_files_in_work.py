# expect: passed
# Everything but files and folders, left in /work for the grader's copy and cleanup: a socket,
# links to the host's secrets, to / and to themselves, a folder and a file without permissions,
# a hard link. None may be followed, none may stop the copy or the cleanup.
import os
import socket

sock = socket.socket(socket.AF_UNIX)
sock.bind("/work/socket")
os.symlink("/etc/shadow", "/work/shadow")
os.symlink("/", "/work/root")
os.symlink("loop", "/work/loop")
os.mkdir("/work/locked")
with open("/work/locked/inside", "w") as f:
    f.write("x")
os.chmod("/work/locked", 0)
with open("/work/secret", "w") as f:
    f.write("y")
os.chmod("/work/secret", 0)
os.link("/work/secret", "/work/hardlink")
print("odd files left")
