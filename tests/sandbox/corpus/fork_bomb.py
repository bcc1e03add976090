# expect: timeout
# Fork without end; RLIMIT_NPROC makes fork fail, the survivors keep trying until the wall clock.
import os

while True:
    try:
        os.fork()
    except OSError:
        pass
