/* HTTP GET for functions: http:// only, HTTP/1.0 (the server closes the
 * connection after the body, so no chunked encoding), 10 s for each of
 * connect/send/receive, only 200 is a body. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "fn_abi.h"
#include "fn_services.h"
#include "util/cleanup.h"

#define FN_HTTP_TIMEOUT_S 10
#define FN_HTTP_MAX_HEAD 16384

struct fn_url {
    char host[256], port[8], path[FN_MAX_URL + 1];
};

static int fn_url_parse(const char *url, size_t len, struct fn_url *u)
{
    if (!fn_url_is_valid(url, len))
        return -EINVAL;
    const char *p = url + 7, *end = url + len;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *hend = slash ? slash : end;
    const char *colon = memchr(p, ':', (size_t)(hend - p));
    const char *host_end = colon ? colon : hend;
    if (host_end == p || (size_t)(host_end - p) >= sizeof u->host || memchr(p, '@', (size_t)(hend - p)))
        return -EINVAL;   /* no user info: nothing but host[:port] */
    memcpy(u->host, p, (size_t)(host_end - p));
    u->host[host_end - p] = '\0';
    if (colon) {
        size_t pl = (size_t)(hend - colon - 1);
        if (pl == 0 || pl > 5 || strspn(colon + 1, "0123456789") < pl)
            return -EINVAL;
        memcpy(u->port, colon + 1, pl);
        u->port[pl] = '\0';
        if (atoi(u->port) < 1 || atoi(u->port) > 65535)
            return -EINVAL;
    } else {
        strcpy(u->port, "80");
    }
    size_t path_len = slash ? (size_t)(end - slash) : 1;
    memcpy(u->path, slash ? slash : "/", path_len);
    u->path[path_len] = '\0';
    return 0;
}

static int fn_http_connect(const struct fn_url *u)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
    int r = getaddrinfo(u->host, u->port, &hints, &res);
    if (r != 0)
        return r == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
    int fd = -ECONNREFUSED;
    struct timeval tv = { FN_HTTP_TIMEOUT_S, 0 };
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            fd = -errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        int e = errno == EINPROGRESS ? ETIMEDOUT : errno;
        close(fd);
        fd = -e;
    }
    freeaddrinfo(res);
    return fd;
}

static int fn_http_send(int fd, const char *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        done += (size_t)n;
    }
    return 0;
}

/* The status code of the head in buf[0..len), or -EPROTO. */
static int fn_http_status(const char *buf, size_t len)
{
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        return -EPROTO;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -EPROTO;
        code = code * 10 + (buf[i] - '0');
    }
    return code;
}

long fn_service_http_get(const char *url, size_t url_len, void *out, size_t cap, size_t *len)
{
    struct fn_url u;
    *len = 0;
    int r = fn_url_parse(url, url_len, &u);
    if (r < 0)
        return r;
    _cleanup_close_ int fd = fn_http_connect(&u);
    if (fd < 0)
        return fd;
    _cleanup_free_ char *req = NULL;
    int n = asprintf(&req, "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: teemate-fn\r\n"
                     "Connection: close\r\n\r\n", u.path, u.host);
    if (n < 0)
        return -ENOMEM;
    if ((r = fn_http_send(fd, req, (size_t)n)) < 0)
        return r;
    /* The head into its buffer, then the body straight into out; past cap
     * it is only counted (the caller sees the full length and refuses). */
    char head[FN_HTTP_MAX_HEAD];
    size_t hl = 0;
    uint64_t total = 0;
    bool in_body = false;
    for (;;) {
        char chunk[16384];
        char *dst = in_body ? chunk : head + hl;
        size_t room = in_body ? sizeof chunk : sizeof head - hl;
        if (room == 0)
            return -EPROTO;   /* a head longer than any we accept */
        ssize_t got = recv(fd, dst, room, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        if (got == 0)
            break;
        const char *body = chunk;
        size_t blen = (size_t)got;
        if (!in_body) {
            hl += (size_t)got;
            char *eoh = memmem(head, hl, "\r\n\r\n", 4);
            if (!eoh)
                continue;
            int status = fn_http_status(head, hl);
            if (status < 0)
                return status;
            if (status != 200)
                return status == 404 ? -ENOENT : -EPROTO;
            in_body = true;
            body = eoh + 4;
            blen = hl - (size_t)(body - head);
        }
        if (total < cap)
            memcpy((char *)out + total, body, blen < cap - total ? blen : cap - total);
        total += blen;
    }
    if (!in_body)
        return -EPROTO;
    *len = total < cap ? total : cap;
    return total > (uint64_t)LONG_MAX ? -EFBIG : (long)total;
}
