/* A command script against a store, for the set/zset tests: the native store
 * (kv_start/kv_batch of kv_entry.h, in this process) or a server on a TCP
 * port (Debian's redis-server), with every reply printed in one canonical
 * text so the two can be diffed.
 *
 * Script: one command a line, arguments separated by spaces; in an argument
 * \s is a space, \xHH a byte, \\ a backslash, \n \r \t \0 as in C, and ""
 * alone the empty string. Lines starting with '#' and empty lines are
 * skipped. A line may start with a mode for replies whose order or content
 * is random: "!sort" (every array's elements sorted), "!pairs" (the top
 * array sorted by (member, score) pairs), "!len" (only the reply's type and
 * length). Header-only: the tests that include it use part of it. */
#ifndef KV_REPLAY_H
#define KV_REPLAY_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "kv_abi.h"
#include "kv_entry.h"

/* each test uses part of these helpers */
#define RP_FN static __attribute__((unused))

/* ---- growing byte buffer */
struct rp_buf {
    char *p;
    size_t len, cap;
};

RP_FN void rp_buf_add(struct rp_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

RP_FN void rp_buf_printf(struct rp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
RP_FN void rp_buf_printf(struct rp_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    rp_buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* ---- script lines */
enum rp_mode { RP_EXACT, RP_SORT, RP_PAIRS, RP_LEN };

struct rp_cmd {
    enum rp_mode mode;
    int argc;
    struct rp_buf argv[64];
};

RP_FN void rp_cmd_free(struct rp_cmd *c)
{
    for (int i = 0; i < c->argc; i++)
        free(c->argv[i].p);
    c->argc = 0;
}

RP_FN int rp_hex(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Parses one line; false for a blank/comment line or a malformed one
 * (*err set then). */
RP_FN bool rp_cmd_parse(const char *line, struct rp_cmd *c, const char **err)
{
    *err = NULL;
    c->argc = 0;
    c->mode = RP_EXACT;
    while (*line == ' ')
        line++;
    if (!*line || *line == '#' || *line == '\n')
        return false;
    static const struct { const char *w; enum rp_mode m; } modes[] = {
        { "!sort ", RP_SORT }, { "!pairs ", RP_PAIRS }, { "!len ", RP_LEN } };
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
        if (!strncmp(line, modes[i].w, strlen(modes[i].w))) {
            c->mode = modes[i].m;
            line += strlen(modes[i].w);
        }
    const char *p = line;
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p || *p == '\n')
            break;
        if (c->argc == 64) {
            *err = "too many arguments";
            rp_cmd_free(c);
            return false;
        }
        struct rp_buf *a = &c->argv[c->argc++];
        memset(a, 0, sizeof(*a));
        rp_buf_add(a, "", 0);
        if (p[0] == '"' && p[1] == '"' && (p[2] == ' ' || !p[2] || p[2] == '\n')) {
            p += 2;
            continue;
        }
        while (*p && *p != ' ' && *p != '\n') {
            char ch = *p++;
            if (ch == '\\') {
                char e = *p ? *p++ : 0;
                switch (e) {
                case 's': ch = ' '; break;
                case 'n': ch = '\n'; break;
                case 'r': ch = '\r'; break;
                case 't': ch = '\t'; break;
                case '0': ch = 0; break;
                case '\\': ch = '\\'; break;
                case 'x':
                    if (rp_hex(p[0]) < 0 || rp_hex(p[1]) < 0) {
                        *err = "bad \\x escape";
                        rp_cmd_free(c);
                        return false;
                    }
                    ch = (char)(rp_hex(p[0]) * 16 + rp_hex(p[1]));
                    p += 2;
                    break;
                default:
                    *err = "bad escape";
                    rp_cmd_free(c);
                    return false;
                }
            }
            rp_buf_add(a, &ch, 1);
        }
    }
    return c->argc > 0;
}

RP_FN void rp_cmd_resp(const struct rp_cmd *c, struct rp_buf *out)
{
    rp_buf_printf(out, "*%d\r\n", c->argc);
    for (int i = 0; i < c->argc; i++) {
        rp_buf_printf(out, "$%zu\r\n", c->argv[i].len);
        rp_buf_add(out, c->argv[i].p, c->argv[i].len);
        rp_buf_add(out, "\r\n", 2);
    }
}

/* ---- RESP2 replies: parse one, print it canonically */
struct rp_reply {
    char type;              /* + - : $ * */
    char *str;              /* + - : $ (NULL: $-1) */
    size_t len;
    int64_t n;              /* * count (-1: null array) */
    struct rp_reply **elems;
};

RP_FN void rp_reply_free(struct rp_reply *r)
{
    if (!r)
        return;
    for (int64_t i = 0; r->elems && i < r->n; i++)
        rp_reply_free(r->elems[i]);
    free(r->elems);
    free(r->str);
    free(r);
}

/* Parses a reply at p[0..len): bytes used, 0 when incomplete, -1 malformed. */
RP_FN long rp_reply_parse(const char *p, size_t len, struct rp_reply **out)
{
    *out = NULL;
    const char *nl = memchr(p, '\n', len);
    if (!nl)
        return 0;
    if (nl == p || nl[-1] != '\r' || nl - p < 2)
        return -1;
    size_t hlen = (size_t)(nl - p) + 1;
    struct rp_reply *r = calloc(1, sizeof(*r));
    r->type = p[0];
    char num[32];
    size_t nlen = hlen - 3 < sizeof(num) - 1 ? hlen - 3 : sizeof(num) - 1;
    memcpy(num, p + 1, nlen);
    num[nlen] = 0;
    switch (p[0]) {
    case '+':
    case '-':
    case ':':
        r->len = hlen - 3;
        r->str = malloc(r->len + 1);
        memcpy(r->str, p + 1, r->len);
        r->str[r->len] = 0;
        *out = r;
        return (long)hlen;
    case '$': {
        long long blen = strtoll(num, NULL, 10);
        if (blen < 0) {
            *out = r;
            return (long)hlen;
        }
        if (hlen + (size_t)blen + 2 > len) {
            free(r);
            return 0;
        }
        r->len = (size_t)blen;
        r->str = malloc(r->len + 1);
        memcpy(r->str, nl + 1, r->len);
        r->str[r->len] = 0;
        *out = r;
        return (long)(hlen + (size_t)blen + 2);
    }
    case '*': {
        r->n = strtoll(num, NULL, 10);
        size_t used = hlen;
        if (r->n > 0) {
            r->elems = calloc((size_t)r->n, sizeof(*r->elems));
            for (int64_t i = 0; i < r->n; i++) {
                long k = rp_reply_parse(p + used, len - used, &r->elems[i]);
                if (k <= 0) {
                    rp_reply_free(r);
                    return k;
                }
                used += (size_t)k;
            }
        }
        *out = r;
        return (long)used;
    }
    default:
        free(r);
        return -1;
    }
}

RP_FN void rp_print_bytes(struct rp_buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            rp_buf_add(b, &p[i], 1);
        else
            rp_buf_printf(b, "\\x%02x", ch);
    }
}

RP_FN void rp_reply_print(const struct rp_reply *r, struct rp_buf *b, int depth, enum rp_mode mode);

RP_FN int rp_cmp_str(const void *a, const void *b)
{
    const struct rp_buf *x = a, *y = b;
    int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

RP_FN void rp_reply_print(const struct rp_reply *r, struct rp_buf *b, int depth, enum rp_mode mode)
{
    for (int i = 0; i < depth; i++)
        rp_buf_add(b, "  ", 2);
    if (mode == RP_LEN && depth == 0) {
        if (r->type == '*')
            rp_buf_printf(b, "*%lld (elements not compared)\n", (long long)r->n);
        else if (r->type == '$')
            rp_buf_printf(b, "$%s (value not compared)\n", r->str ? "bulk" : "-1");
        else
            rp_buf_printf(b, "%c (value not compared)\n", r->type);
        return;
    }
    if (r->type == '$' && !r->str) {
        rp_buf_add(b, "$-1\n", 4);
        return;
    }
    if (r->type != '*') {
        rp_buf_add(b, &r->type, 1);
        rp_print_bytes(b, r->str, r->len);
        rp_buf_add(b, "\n", 1);
        return;
    }
    rp_buf_printf(b, "*%lld\n", (long long)r->n);
    if (r->n <= 0)
        return;
    /* each element (or pair) printed on its own, then sorted if asked */
    int64_t group = mode == RP_PAIRS && depth == 0 ? 2 : 1;
    int64_t items = r->n / group;
    struct rp_buf *parts = calloc((size_t)items + 1, sizeof(*parts));
    for (int64_t i = 0; i < r->n; i++)
        rp_reply_print(r->elems[i], &parts[i / group], depth + 1,
                       mode == RP_PAIRS ? RP_EXACT : mode);
    if (mode == RP_SORT || (mode == RP_PAIRS && depth == 0))
        qsort(parts, (size_t)items, sizeof(*parts), rp_cmp_str);
    for (int64_t i = 0; i < items; i++) {
        rp_buf_add(b, parts[i].p, parts[i].len);
        free(parts[i].p);
    }
    free(parts);
}

/* ---- the native store as a client sees it */
struct rp_native {
    struct rp_buf pending;   /* reply bytes received, not yet parsed */
    char *out;
    size_t out_cap;
};

RP_FN uint64_t rp_now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* One batch with one record for client 1; appends its reply bytes. Returns
 * the record's flags, or -1. */
RP_FN int rp_native_batch(struct rp_native *n, uint32_t flags, const void *data, size_t len)
{
    size_t in_len = sizeof(struct kv_batch_in) + KV_RECORD_SIZE(len);
    char *in = calloc(1, in_len);
    struct kv_batch_in *bi = (void *)in;
    bi->now_us = rp_now_us();
    bi->count = 1;
    struct kv_client_in *ci = (void *)(in + sizeof(*bi));
    ci->id = 1;
    ci->flags = flags;
    ci->len = (uint32_t)len;
    memcpy(ci + 1, data, len);
    size_t out_len = 0;
    int rc = kv_batch(in, in_len, n->out, n->out_cap, &out_len);
    free(in);
    if (rc < 0)
        return -1;
    const struct kv_batch_out *bo = (void *)n->out;
    size_t off = sizeof(*bo);
    int rflags = 0;
    for (uint32_t i = 0; i < bo->count; i++) {
        const struct kv_client_out *co = (void *)(n->out + off);
        if (co->id == 1) {
            rp_buf_add(&n->pending, co + 1, co->len);
            rflags |= (int)co->flags;
        }
        off += KV_RECORD_SIZE(co->len);
    }
    return rflags;
}

RP_FN int rp_native_start(struct rp_native *n)
{
    memset(n, 0, sizeof(*n));
    struct kv_config cfg = { 0 };
    cfg.databases = 16;
    cfg.hz = 10;
    cfg.proto_max_bulk_len = 512ull << 20;
    cfg.client_query_buffer_limit = 1ull << 30;
    size_t out_len = 0;
    if (kv_start(&cfg, sizeof(cfg), NULL, 0, &out_len) < 0)
        return -1;
    n->out_cap = 4u << 20;
    n->out = malloc(n->out_cap);
    rp_buf_add(&n->pending, "", 0);
    static const char addr[] = "127.0.0.1:40000 127.0.0.1:6379";
    return rp_native_batch(n, KV_IN_NEW, addr, sizeof(addr) - 1) < 0 ? -1 : 0;
}

RP_FN void rp_native_stop(struct rp_native *n)
{
    rp_native_batch(n, KV_IN_GONE, "", 0);
    kv_stop();
    free(n->out);
    free(n->pending.p);
}

/* Sends bytes, returns the next whole reply (NULL when none comes). */
RP_FN struct rp_reply *rp_native_call(struct rp_native *n, const void *req, size_t len)
{
    int flags = rp_native_batch(n, KV_IN_DATA, req, len);
    for (int tries = 0; flags >= 0; tries++) {
        struct rp_reply *r;
        long k = rp_reply_parse(n->pending.p, n->pending.len, &r);
        if (k > 0) {
            memmove(n->pending.p, n->pending.p + k, n->pending.len - (size_t)k + 1);
            n->pending.len -= (size_t)k;
            return r;
        }
        if (k < 0 || !(flags & KV_OUT_PENDING) || tries > 1000000)
            return NULL;
        flags = rp_native_batch(n, 0, "", 0);
    }
    return NULL;
}

/* ---- a server on 127.0.0.1:port */
struct rp_tcp {
    int fd;
    struct rp_buf pending;
};

RP_FN int rp_tcp_connect(struct rp_tcp *t, int port)
{
    memset(t, 0, sizeof(*t));
    rp_buf_add(&t->pending, "", 0);
    t->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return t->fd < 0 || connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -1 : 0;
}

RP_FN struct rp_reply *rp_tcp_call(struct rp_tcp *t, const void *req, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t k = write(t->fd, (const char *)req + off, len - off);
        if (k <= 0)
            return NULL;
        off += (size_t)k;
    }
    for (;;) {
        struct rp_reply *r;
        long k = rp_reply_parse(t->pending.p, t->pending.len, &r);
        if (k > 0) {
            memmove(t->pending.p, t->pending.p + k, t->pending.len - (size_t)k + 1);
            t->pending.len -= (size_t)k;
            return r;
        }
        if (k < 0)
            return NULL;
        char buf[65536];
        ssize_t got = read(t->fd, buf, sizeof(buf));
        if (got <= 0)
            return NULL;
        rp_buf_add(&t->pending, buf, (size_t)got);
    }
}

#endif
