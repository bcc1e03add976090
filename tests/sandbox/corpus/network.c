// expect: runtime_error
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
int main(void) {
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(6379)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("connect");
        return 1;
    }
    puts("connected to redis");
    return 0;
}
