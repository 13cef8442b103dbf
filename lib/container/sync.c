/* The runtime <-> init handshake: one fixed-size message per step. */
#include "container/init.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int tm_sync_send(int fd, uint32_t type, int status, double setup_ms, const char *message)
{
    struct tm_sync_msg m = { .type = type, .status = status, .setup_ms = setup_ms };
    if (message)
        snprintf(m.message, sizeof(m.message), "%s", message);
    ssize_t n;
    do
        n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(m) ? 0 : -EPIPE;
}

int tm_sync_recv(int fd, struct tm_sync_msg *m)
{
    ssize_t n;
    do
        n = recv(fd, m, sizeof(*m), 0);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(*m))
        return -EPIPE;
    m->message[sizeof(m->message) - 1] = '\0';
    return 0;
}
