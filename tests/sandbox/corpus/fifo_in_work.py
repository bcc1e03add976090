# expect: passed
# Red team: a FIFO left in /work made the grader's next copy of the folder raise (or block).
import os

os.mkfifo("/work/pipe")
os.mkdir("/work/sub")
os.mkfifo("/work/sub/results.json")
print("fifos left")
