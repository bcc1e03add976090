// expect: output_limit
// Red team: reserve 512 MB in /work in a few milliseconds, each file within RLIMIT_FSIZE; a
// watchdog polling every 0.1 s only sees it afterwards. A capped tmpfs refuses it at once.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(void) {
    char name[64];
    for (int i = 0; i < 128; i++) {
        snprintf(name, sizeof name, "/work/burst_%d", i);
        int fd = open(name, O_WRONLY | O_CREAT, 0600);
        int err = posix_fallocate(fd, 0, 4 << 20);
        if (err) { fprintf(stderr, "%s: No space left on device (%d)\n", name, err); return 1; }
        close(fd);
    }
    puts("512 MB reserved");
    return 0;
}
