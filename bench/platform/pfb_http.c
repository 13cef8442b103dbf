/* A small HTTP/1.1 client for one keep-alive connection to the gateway.
 * Ours rather than libcurl: the bench talks to one server of ours on
 * loopback (Content-Length or chunked bodies, no TLS, no redirects), its
 * cost per request must be small and plain next to a sub-millisecond
 * gateway, and a timeout or a broken connection must be seen as such (an
 * error counted), not retried away. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "pfb.h"
#include "util/cleanup.h"

#define PFB_HEAD_MAX 16384

void pfb_conn_init(struct pfb_conn *cn, int port)
{
    memset(cn, 0, sizeof *cn);
    cn->fd = -1;
    cn->port = port;
}

void pfb_conn_close(struct pfb_conn *cn)
{
    if (cn->fd >= 0)
        close(cn->fd);
    cn->fd = -1;
    cn->have = 0;
}

static int pfb_connect(struct pfb_conn *cn)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)cn->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int one = 1;
    if (fd < 0)
        return -errno;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    cn->fd = fd;
    cn->have = 0;
    return 0;
}

static int pfb_send_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EPIPE;
        p += n, len -= (size_t)n;
    }
    return 0;
}

/* Read more into cn->buf before end (tm_bench_now_s): bytes read, 0 at EOF. */
static ssize_t pfb_fill(struct pfb_conn *cn, double end)
{
    if (cn->cap - cn->have < 4096) {
        size_t cap = cn->cap ? cn->cap * 2 : 65536;
        char *b = realloc(cn->buf, cap + 1);
        if (!b)
            return -ENOMEM;
        cn->buf = b, cn->cap = cap;
    }
    for (;;) {
        double left = end - tm_bench_now_s();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p = { .fd = cn->fd, .events = POLLIN };
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            continue;
        ssize_t n = recv(cn->fd, cn->buf + cn->have, cn->cap - cn->have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        cn->have += (size_t)n;
        cn->buf[cn->have] = '\0';
        return n;
    }
}

/* The header's value (the line after "Name:"), or NULL. */
static const char *pfb_header(const char *head, const char *name)
{
    size_t n = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n"))
        if (!strncasecmp(l + 2, name, n) && l[2 + n] == ':')
            return l + 3 + n + strspn(l + 3 + n, " \t");
    return NULL;
}

/* A chunked body in p[0..n): 0 with it decoded (*out malloc'ed, ended,
 * *olen bytes) and *consumed the bytes it took; -EAGAIN while incomplete;
 * -EPROTO if malformed. Our gateway sends no trailers. */
static int pfb_dechunk(const char *p, size_t n, char **out, size_t *olen, size_t *consumed)
{
    _cleanup_free_ char *o = malloc(n + 1);
    size_t in = 0, len = 0;
    if (!o)
        return -ENOMEM;
    for (;;) {
        const char *eol = memmem(p + in, n - in, "\r\n", 2);
        if (!eol)
            return -EAGAIN;
        char *end;
        unsigned long long sz = strtoull(p + in, &end, 16);
        if (end == p + in || sz > n)
            return sz > n ? -EAGAIN : -EPROTO;
        size_t data = (size_t)(eol - p) + 2;
        if (n - data < sz + 2)
            return -EAGAIN;
        if (sz == 0) {
            o[len] = '\0';
            *out = TM_STEAL(o), *olen = len, *consumed = data + 2;
            return 0;
        }
        memcpy(o + len, p + data, sz);
        len += sz;
        in = data + sz + 2;
    }
}

static int pfb_read_response(struct pfb_conn *cn, double end, int *status, char **rbody, size_t *blen,
                             bool *close_after)
{
    char *eoh;
    ssize_t n;
    while (!(eoh = cn->have ? memmem(cn->buf, cn->have, "\r\n\r\n", 4) : NULL)) {
        if (cn->have > PFB_HEAD_MAX)
            return -EPROTO;
        if ((n = pfb_fill(cn, end)) <= 0)
            return n ? (int)n : -ECONNRESET;
    }
    size_t head_len = (size_t)(eoh - cn->buf) + 4;
    _cleanup_free_ char *head = strndup(cn->buf, head_len);
    if (!head)
        return -ENOMEM;
    if (sscanf(head, "HTTP/1.%*d %d", status) != 1)
        return -EPROTO;
    const char *cl = pfb_header(head, "Content-Length"), *te = pfb_header(head, "Transfer-Encoding");
    const char *conn = pfb_header(head, "Connection");
    *close_after = conn && !strncasecmp(conn, "close", 5);
    size_t body_len, consumed;
    if (te && !strncasecmp(te, "chunked", 7)) {
        char *decoded = NULL;
        for (;;) {
            int r = pfb_dechunk(cn->buf + head_len, cn->have - head_len, &decoded, &body_len, &consumed);
            if (r == 0)
                break;
            if (r != -EAGAIN)
                return r;
            if ((n = pfb_fill(cn, end)) <= 0)
                return n ? (int)n : -ECONNRESET;
        }
        if (rbody)
            *rbody = decoded, *blen = body_len;
        else
            free(decoded);
        consumed += head_len;
        memmove(cn->buf, cn->buf + consumed, cn->have - consumed);
        cn->have -= consumed;
        return 0;
    }
    if (!cl)
        return -EPROTO;   /* libmicrohttpd always says one or the other */
    body_len = strtoull(cl, NULL, 10);
    while (cn->have < head_len + body_len)
        if ((n = pfb_fill(cn, end)) <= 0)
            return n ? (int)n : -ECONNRESET;
    if (rbody) {
        *rbody = strndup(cn->buf + head_len, body_len);
        *blen = body_len;
    }
    consumed = head_len + body_len;
    memmove(cn->buf, cn->buf + consumed, cn->have - consumed);
    cn->have -= consumed;
    return 0;
}

int pfb_http(struct pfb_conn *cn, const char *method, const char *path, const char *auth,
             const char *body, size_t len, double timeout_s, int *status, char **rbody, size_t *blen)
{
    double end = tm_bench_now_s() + timeout_s;
    _cleanup_free_ char *req = NULL;
    int n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: %s\r\n"
                           "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     method, path, cn->port, auth, len);
    if (n < 0)
        return req = NULL, -ENOMEM;
    if (rbody)
        *rbody = NULL;
    /* a kept connection the server has closed fails at once: one new try */
    for (int attempt = 0;; attempt++) {
        bool reused = cn->fd >= 0;
        int r = reused ? 0 : pfb_connect(cn);
        if (r == 0)
            r = pfb_send_all(cn->fd, req, (size_t)n);
        if (r == 0 && len)
            r = pfb_send_all(cn->fd, body, len);
        bool close_after = false;
        if (r == 0)
            r = pfb_read_response(cn, end, status, rbody, blen, &close_after);
        if (r == 0 && rbody && !*rbody)
            r = -ENOMEM;
        if (r == 0 && !close_after)
            return 0;
        pfb_conn_close(cn);
        if (r == 0)
            return 0;
        if (!(reused && attempt == 0 && (r == -EPIPE || r == -ECONNRESET)))
            return r;
    }
}
