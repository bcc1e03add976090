# expect: runtime_error
open("/pwned", "w").write("pwned")
