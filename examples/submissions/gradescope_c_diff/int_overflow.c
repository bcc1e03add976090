#include <stdio.h>

int main(void) {
    int n;
    while (scanf("%d", &n) == 1) {
        int a = 0, b = 1;  /* wrong: overflows past fib(46) */
        for (int i = 0; i < n; i++) {
            int next = a + b;
            a = b;
            b = next;
        }
        printf("%d\n", a);
    }
    return 0;
}
