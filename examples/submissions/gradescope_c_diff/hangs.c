#include <stdio.h>

int main(void) {
    int n;
    while (scanf("%d", &n) == 1) {
        long long a = 0, b = 1;
        if (n >= 20) {
            for (;;) {
            }  /* wrong: never ends for large n */
        }
        for (int i = 0; i < n; i++) {
            long long next = a + b;
            a = b;
            b = next;
        }
        printf("%lld\n", a);
    }
    return 0;
}
