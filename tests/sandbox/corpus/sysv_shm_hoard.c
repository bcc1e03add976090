// expect: memory
// Red team: SysV segments outlive their mapping; attach, fill, detach, repeat: the address
// space never holds more than one (624 MB ran under a 256 MB limit). The cgroup counts them.
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(void) {
    size_t size = 48u << 20;
    for (int i = 0; i < 13; i++) {
        int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
        if (id < 0) { perror("shmget"); return 1; }
        char *p = shmat(id, NULL, 0);
        if (p == (void *)-1) { perror("shmat"); return 1; }
        memset(p, 1, size);
        shmdt(p);
    }
    puts("hoarded 624 MB");
    return 0;
}
