/* The bench's own RESP client: polling INFO every millisecond through
 * redis-cli would cost a process per poll and time the polls, not the save. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "snb.h"

int snb_connect(struct snb_conn *c, unsigned port)
{
    c->off = c->have = 0;
    c->port = port;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -errno;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* a wedged server is an error, not a bench that waits forever */
    struct timeval limit = { .tv_sec = SNB_REPLY_TIMEOUT_S };
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = -errno;
        snb_close(c);
        return e;
    }
    return 0;
}

void snb_close(struct snb_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int snb_fill_buf(struct snb_conn *c)
{
    if (c->off == c->have)
        c->off = c->have = 0;
    if (c->have == sizeof c->buf) {   /* keep the unread tail, drop the rest */
        memmove(c->buf, c->buf + c->off, c->have - c->off);
        c->have -= c->off, c->off = 0;
    }
    for (;;) {
        ssize_t n = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -ECONNRESET;
        c->have += (size_t)n;
        return 0;
    }
}

/* One CRLF-ended line, without the CRLF, into out (cut). */
static int snb_line(struct snb_conn *c, char *out, size_t len)
{
    size_t got = 0;
    for (;;) {
        char *nl = memchr(c->buf + c->off, '\n', c->have - c->off);
        size_t take = nl ? (size_t)(nl - (c->buf + c->off)) + 1 : c->have - c->off;
        size_t copy = take < len - 1 - got ? take : len - 1 - got;
        memcpy(out + got, c->buf + c->off, copy);
        got += copy, c->off += take;
        if (nl)
            break;
        int r = snb_fill_buf(c);
        if (r < 0)
            return r;
    }
    while (got && (out[got - 1] == '\n' || out[got - 1] == '\r'))
        got--;
    out[got] = '\0';
    return 0;
}

/* n bytes of a bulk string and its CRLF; the first len - 1 into out. */
static int snb_bulk(struct snb_conn *c, long long n, char *out, size_t len)
{
    size_t got = 0, want = (size_t)n + 2;
    while (want) {
        if (c->off == c->have) {
            int r = snb_fill_buf(c);
            if (r < 0)
                return r;
        }
        size_t take = c->have - c->off < want ? c->have - c->off : want;
        size_t copy = got < len - 1 ? (take < len - 1 - got ? take : len - 1 - got) : 0;
        memcpy(out + got, c->buf + c->off, copy);
        got += copy, c->off += take, want -= take;
    }
    got = got > (size_t)n ? (size_t)n : got;   /* not the CRLF */
    out[got] = '\0';
    return 0;
}

static int snb_reply(struct snb_conn *c, char *out, size_t len, int depth)
{
    char line[512];
    int r = snb_line(c, line, sizeof line);
    if (r < 0)
        return r;
    long long n = strtoll(line + 1, NULL, 10);
    switch (line[0]) {
    case '+': case '-': case ':':
        snprintf(out, len, "%s", line + 1);
        return line[0];
    case '$':
        if (n < 0)
            return out[0] = '\0', '$';
        r = snb_bulk(c, n, out, len);
        return r < 0 ? r : '$';
    case '*':
        if (depth > 8)
            return -EPROTO;
        for (long long i = 0; i < n; i++) {
            char sink[64];
            if ((r = snb_reply(c, sink, sizeof sink, depth + 1)) < 0)
                return r;
        }
        out[0] = '\0';
        return '*';
    default:
        return -EPROTO;
    }
}

static int snb_send(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        p += w, n -= (size_t)w;
    }
    return 0;
}

int snb_call(struct snb_conn *c, char *out, size_t len, ...)
{
    const char *words[8];
    int nw = 0;
    va_list ap;
    va_start(ap, len);
    for (const char *w; nw < 8 && (w = va_arg(ap, const char *));)
        words[nw++] = w;
    va_end(ap);
    char req[512];
    int at = snprintf(req, sizeof req, "*%d\r\n", nw);
    for (int i = 0; i < nw && at < (int)sizeof req; i++)
        at += snprintf(req + at, sizeof req - (size_t)at, "$%zu\r\n%s\r\n", strlen(words[i]), words[i]);
    if (at >= (int)sizeof req)
        return -EINVAL;
    int r = c->fd >= 0 ? 0 : snb_connect(c, c->port);
    if (r == 0)
        r = snb_send(c->fd, req, (size_t)at);
    if (r == 0)
        r = snb_reply(c, out, len, 0);
    if (r < 0) {
        snb_close(c);
        snprintf(out, len, "%s", strerror(-r));
    }
    return r;
}

static const char *snb_info_find(const char *info, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = info; (p = strstr(p, name)); p += n)
        if ((p == info || p[-1] == '\n') && p[n] == ':')
            return p + n + 1;
    return NULL;
}

long long snb_info_ll(const char *info, const char *name)
{
    const char *v = snb_info_find(info, name);
    char *end;
    long long x = v ? strtoll(v, &end, 10) : -1;
    return v && end != v ? x : -1;
}

void snb_info_str(const char *info, const char *name, char *out, size_t len)
{
    const char *v = snb_info_find(info, name);
    size_t n = v ? strcspn(v, "\r\n") : 0;
    snprintf(out, len, "%.*s", (int)n, v ? v : "");
}
