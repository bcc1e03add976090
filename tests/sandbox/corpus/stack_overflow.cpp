// expect: runtime_error
#include <cstdio>
int depth(int n) {
    volatile char pad[1024];
    pad[0] = (char)n;
    return depth(n + 1) + pad[0];
}
int main() { std::printf("%d\n", depth(0)); }
