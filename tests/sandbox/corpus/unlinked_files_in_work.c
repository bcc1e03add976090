// expect: output_limit
// Files with no name (O_TMPFILE) hold disk space that no walk of /work can find: only the
// file system's own count (a capped tmpfs) sees them.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    static char block[1 << 20];
    memset(block, 1, sizeof block);
    for (int i = 0; i < 64; i++) {
        int fd = open("/work", O_TMPFILE | O_WRONLY, 0600);
        if (fd < 0) { perror("open O_TMPFILE"); return 1; }
        for (int mb = 0; mb < 4; mb++) {
            if (write(fd, block, sizeof block) < 0) { perror("write"); return 1; }
        }
    }
    puts("256 MB without a name");
    return 0;
}
