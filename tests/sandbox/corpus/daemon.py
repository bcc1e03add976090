# expect: passed
# Double fork + setsid: the grandchild outlives its parent and would write a marker later.
import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1)
        with open("/work/daemon_marker", "w") as f:
            f.write("I survived the run")
        time.sleep(60)
    os._exit(0)
print("parent done")
