// expect: timeout
// Spinning threads until creation fails, then spin: CPU time is per process, all threads count.
#include <pthread.h>
static void *spin(void *arg) { for (;;) { } return arg; }
int main(void) {
    pthread_t t;
    for (int i = 0; i < 100000; i++) pthread_create(&t, 0, spin, 0);
    spin(0);
}
