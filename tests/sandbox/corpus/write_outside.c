// expect: runtime_error
#include <stdio.h>
int main(void) {
    const char *paths[] = {"/usr/pwned", "/etc/pwned", "/pwned", "/proc/pwned", "/dev/pwned"};
    int written = 0;
    for (int i = 0; i < 5; i++) {
        FILE *f = fopen(paths[i], "w");
        if (f) { fputs("pwned", f); fclose(f); written++; }
        else perror(paths[i]);
    }
    return written ? 0 : 1;
}
