#include <stdio.h>

int main(void) {
    int n, x, total = 0;  /* bug: int overflows on large values */
    if (scanf("%d", &n) != 1) return 1;
    for (int i = 0; i < n; i++) {
        if (scanf("%d", &x) != 1) return 1;
        total += x;
    }
    printf("%d\n", total);
    return 0;
}
