// expect: passed
// Leave behind a child that stopped itself: it must not outlive the run.
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
    if (fork() == 0) {
        setsid();
        raise(SIGSTOP);
        return 0;
    }
    puts("left a stopped child behind");
    return 0;
}
