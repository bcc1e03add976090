// expect: memory
// Red team: RLIMIT_AS is per process; six processes of 100 MB each fit a 128 MB one. The
// run's memory cgroup bounds their sum; the parent does not care what happened to them.
// Each child holds its memory until every child has touched its own (or died): no timing.
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int touched[2], release[2];
    if (pipe(touched) || pipe(release)) return 1;
    for (int i = 0; i < 6; i++) {
        if (fork() == 0) {
            close(touched[0]);
            close(release[1]);
            volatile char *p = malloc(100u << 20);  // volatile: the stores must happen
            for (size_t at = 0; p && at < 100u << 20; at += 4096) p[at] = 1;
            char c = 1;
            write(touched[1], &c, 1);
            close(touched[1]);
            read(release[0], &c, 1);  // EOF once the parent lets go
            _exit(0);
        }
    }
    close(touched[1]);
    close(release[0]);
    char buf[6];
    while (read(touched[0], buf, sizeof buf) > 0) {}  // EOF: every child touched or died
    close(release[1]);
    while (wait(NULL) > 0) {}
    return 0;
}
