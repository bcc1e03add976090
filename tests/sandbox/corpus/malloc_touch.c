// expect: memory
// Allocate and touch 1 MB blocks; when malloc fails the memset of NULL crashes.
#include <stdlib.h>
#include <string.h>
int main(void) {
    for (;;) {
        char *p = malloc(1 << 20);
        memset(p, 1, 1 << 20);
    }
}
