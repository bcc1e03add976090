// expect: timeout
// A stopped process uses no CPU: only the wall clock ends it, and SIGKILL still reaches it.
#include <signal.h>
int main(void) {
    raise(SIGSTOP);
    return 0;
}
