# expect: runtime_error
open("/etc/pwned", "w").write("pwned")
