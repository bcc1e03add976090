#include <stdio.h>

int main(void) {
    int n;
    while (scanf("%d", &n) == 1) {
        long long a = 0, b = 1;
        for (int i = 1; i < n; i++) {  /* wrong: one step short */
            long long next = a + b;
            a = b;
            b = next;
        }
        printf("%lld\n", n == 0 ? 0 : a);
    }
    return 0;
}
