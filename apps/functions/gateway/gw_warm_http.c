/* The invoker's side of the action protocol: one HTTP/1.1 POST per
 * connection (Connection: close) to a warm container's unix socket. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fn_invoke.h"
#include "gw_warm.h"
#include "util/cleanup.h"
#include "util/clock.h"

int gw_warm_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return -1;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int gw_warm_post(const char *sock, const char *path, const char *body, unsigned timeout_ms,
                 unsigned *status, char **reply, tm_error *err)
{
    double deadline = tm_now_ms() + timeout_ms;
    _cleanup_close_ int fd = gw_warm_connect(sock);
    if (fd < 0)
        return tm_error_set(err, EPIPE, "the warm container's socket does not answer");
    size_t blen = strlen(body);
    char head[256];
    int hl = snprintf(head, sizeof head, "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                      "application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", path, blen);
    if (tm_write_full(fd, head, (size_t)hl) < 0 || tm_write_full(fd, body, blen) < 0)
        return tm_error_set(err, EPIPE, "the warm container went away");
    size_t len = 0, cap = 4096;
    _cleanup_free_ char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            return tm_error_set(err, ENOMEM, "out of memory");
        double left = deadline - tm_now_ms();
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int n = left > 0 ? poll(&pfd, 1, (int)left + 1) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return tm_error_set(err, ETIMEDOUT, "no answer within %u ms", timeout_ms);
        if (len + 1 >= cap) {
            char *nb = cap < FN_MAX_RESULT * 2 ? realloc(buf, cap *= 2) : NULL;
            if (!nb)
                return tm_error_set(err, E2BIG, "the warm container's answer is too large");
            buf = nb;
        }
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    buf[len] = '\0';
    unsigned code;
    char *sep = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.%*u %u", &code) != 1 || !sep)
        return tm_error_set(err, EPIPE, "the warm container went away without an answer");
    *status = code;
    *reply = strdup(sep + 4);
    return *reply ? 0 : tm_error_set(err, ENOMEM, "out of memory");
}
