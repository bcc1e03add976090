# expect: runtime_error
# Redis listens on the host's 127.0.0.1:6379; the sandbox has its own, empty network namespace.
import socket

try:
    socket.create_connection(("1.1.1.1", 53), timeout=1).close()
    print("connected to the internet")
except OSError as exc:
    print("no internet:", exc)
socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
print("connected to redis")
