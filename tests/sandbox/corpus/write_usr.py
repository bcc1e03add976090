# expect: runtime_error
open("/usr/pwned", "w").write("pwned")
