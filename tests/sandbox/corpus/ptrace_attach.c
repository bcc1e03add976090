// expect: runtime_error
// Attach to pid 1 (the sandbox's reaper) and to the parent: both must be refused.
#include <stdio.h>
#include <sys/ptrace.h>
#include <unistd.h>
int main(void) {
    long a = ptrace(PTRACE_ATTACH, 1, 0, 0);
    long b = ptrace(PTRACE_ATTACH, getppid(), 0, 0);
    printf("attach pid 1: %ld, parent: %ld\n", a, b);
    return (a == 0 || b == 0) ? 0 : 1;
}
