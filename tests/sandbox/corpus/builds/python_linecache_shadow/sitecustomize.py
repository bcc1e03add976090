# A syntax error makes the check format a message: traceback imports linecache (and the
# interpreter's start-up imports encodings): none of them may come from the submission.
with open("/work/BUILD_PWNED", "w") as marker:
    marker.write("the syntax check imported the submission")
print("PWNED")
raise SystemExit(0)
