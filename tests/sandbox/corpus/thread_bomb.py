# expect: runtime_error
# Start threads until the process limit (threads count) or the address space stops it.
import threading
import time

while True:
    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
