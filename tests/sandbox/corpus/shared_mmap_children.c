// expect: memory
// Shared anonymous memory (shmem, like tmpfs), 64 MB per process in eight processes: each one
// far under RLIMIT_AS, 512 MB together. Counted by the memory cgroup as shmem. Each child
// holds its mapping until every child has filled its own (or died): no timing.
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int filled[2], release[2];
    if (pipe(filled) || pipe(release)) return 1;
    for (int i = 0; i < 8; i++) {
        if (fork() == 0) {
            close(filled[0]);
            close(release[1]);
            size_t size = 64u << 20;
            char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
            if (p != MAP_FAILED) memset(p, 1, size);
            char c = 1;
            write(filled[1], &c, 1);
            close(filled[1]);
            read(release[0], &c, 1);  // EOF once the parent lets go
            _exit(0);
        }
    }
    close(filled[1]);
    close(release[0]);
    char buf[8];
    while (read(filled[0], buf, sizeof buf) > 0) {}  // EOF: every child filled or died
    close(release[1]);
    while (wait(NULL) > 0) {}
    return 0;
}
