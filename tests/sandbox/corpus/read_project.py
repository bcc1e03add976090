# expect: runtime_error
# HOST_PROJECT is the grader's source tree on the host, which must not be visible.
import os

for path in ("/root", "/home"):
    try:
        print(path, os.listdir(path))
    except OSError as exc:
        print(path, exc)
print(open(os.path.join(os.environ["HOST_PROJECT"], "pyproject.toml")).read())
