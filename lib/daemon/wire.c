#include "daemon/wire.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int tm_wire_send(int sock, const void *buf, size_t len, const int *fds, int nfds, bool nonblock)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * TM_WIRE_FDS_CAP)];
    } control;
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds < 0 || nfds > TM_WIRE_FDS_CAP)
        return -EINVAL;
    if (nfds > 0) {
        memset(&control, 0, sizeof control);
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t n;
    do
        n = sendmsg(sock, &mh, MSG_NOSIGNAL | (nonblock ? MSG_DONTWAIT : 0));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EMSGSIZE;
}

ssize_t tm_wire_recv(int sock, void *buf, size_t cap, int fds[TM_WIRE_FDS_CAP], int *nfds,
                     bool *truncated, bool nonblock)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * TM_WIRE_FDS_CAP)];
    } control;
    struct iovec iov = { .iov_base = buf, .iov_len = cap };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf };
    *nfds = 0;
    *truncated = false;
    ssize_t n;
    do
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | (nonblock ? MSG_DONTWAIT : 0));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            *truncated = true;   /* nothing else is expected: refuse the message */
            continue;
        }
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (*nfds < TM_WIRE_FDS_CAP)
                fds[(*nfds)++] = fd;
            else {
                close(fd);
                *truncated = true;
            }
        }
    }
    if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
        *truncated = true;
    return n;
}

void tm_wire_close_fds(int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}
