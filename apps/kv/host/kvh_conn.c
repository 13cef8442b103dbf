/* A client connection's socket and output buffer (kvh_conn.h). */
#include "kvh_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Redis's anetFormatAddr: "ip:port", "[ipv6]:port", a unix socket "path:0". */
static void kvh_conn_format(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)ss;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
        port = ntohs(s->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)ss;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
        port = ntohs(s->sin6_port);
        snprintf(buf, len, "[%s]:%u", ip, port);
        return;
    } else if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *s = (const void *)ss;
        snprintf(buf, len, "%.60s:0", s->sun_path[0] ? s->sun_path : "/unixsocket");
        return;
    }
    snprintf(buf, len, "%s:%u", ip, port);
}

struct kvh_conn *kvh_conn_new(uint64_t id, int fd)
{
    struct kvh_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->id = id;
    c->fd = fd;
    c->is_new = true;
    struct sockaddr_storage peer = { 0 }, local = { 0 };
    socklen_t pl = sizeof peer, ll = sizeof local;
    char a[72] = "?:0", b[72] = "?:0";
    if (getpeername(fd, (struct sockaddr *)&peer, &pl) == 0)
        kvh_conn_format(&peer, a, sizeof a);
    if (getsockname(fd, (struct sockaddr *)&local, &ll) == 0)
        kvh_conn_format(&local, b, sizeof b);
    snprintf(c->addr, sizeof c->addr, "%s %s", a, b);
    return c;
}

bool kvh_conn_has_output(const struct kvh_conn *c)
{
    return c->out_off < c->out_len;
}

bool kvh_conn_append(struct kvh_conn *c, const void *p, size_t len)
{
    if (!len)
        return true;
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + len > c->out_cap) {
        if (c->out_off) {   /* slide the unwritten part down first */
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        if (c->out_len + len > c->out_cap) {
            size_t cap = c->out_cap ? c->out_cap : 16384;
            while (cap < c->out_len + len)
                cap *= 2;
            char *n = realloc(c->out, cap);
            if (!n)
                return false;
            c->out = n;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, p, len);
    c->out_len += len;
    return true;
}

int kvh_conn_flush(struct kvh_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1;
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    if (c->out_cap > (1U << 20)) {   /* a big reply went out: give the memory back */
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    return 1;
}

void kvh_conn_close(struct kvh_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

void kvh_conn_free(struct kvh_conn *c)
{
    if (!c)
        return;
    kvh_conn_close(c);
    free(c->out);
    free(c);
}
