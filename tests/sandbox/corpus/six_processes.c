// expect: memory
// Red team: RLIMIT_AS is per process; six processes of 100 MB each fit a 128 MB one. The
// run's memory cgroup bounds their sum; the parent does not care what happened to them.
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    for (int i = 0; i < 6; i++) {
        if (fork() == 0) {
            volatile char *p = malloc(100u << 20);  // volatile: the stores must happen
            for (size_t at = 0; p && at < 100u << 20; at += 4096) p[at] = 1;
            sleep(1);
            _exit(0);
        }
    }
    while (wait(NULL) > 0) {}
    return 0;
}
