// expect: passed
// kill(-1, SIGKILL) reaches every process this one may signal: only its own sandbox.
#include <signal.h>
#include <stdio.h>
int main(void) {
    kill(-1, SIGKILL);
    puts("still here");
    return 0;
}
