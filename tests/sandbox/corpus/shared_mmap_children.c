// expect: memory
// Shared anonymous memory (shmem, like tmpfs), 64 MB per process in eight processes: each one
// far under RLIMIT_AS, 512 MB together. Counted by the memory cgroup as shmem.
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    for (int i = 0; i < 8; i++) {
        if (fork() == 0) {
            size_t size = 64u << 20;
            char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
            if (p != MAP_FAILED) memset(p, 1, size);
            sleep(1);
            _exit(0);
        }
    }
    while (wait(NULL) > 0) {}
    return 0;
}
