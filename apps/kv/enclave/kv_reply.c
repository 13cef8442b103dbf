/* RESP2 replies into the client's output buffer (networking.c's addReply*).
 * The buffer is handed to the host by the batch (kv_ecall.c); a client with
 * bytes to send joins the server's pending-write list. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kv_server.h"

void kv_client_mark_pending(struct kv_client *c)
{
    if (c->flags & KV_CLIENT_PENDING_WRITE)
        return;
    struct kv_server *s = kv_server();
    c->flags |= KV_CLIENT_PENDING_WRITE;
    c->core->write_next = NULL;
    if (s->write_tail)
        s->write_tail->core->write_next = c;
    else
        s->write_head = c;
    s->write_tail = c;
}

/* Room for len more bytes of c's replies. Past kv_client_output_limit() the
 * client is closed at once and what it has not taken is dropped, also in the
 * middle of one command's reply (an MGET of one big value a thousand times):
 * from then on its buffer only ever holds the item being written, so no
 * client can grow the store past its slot. */
static char *kv_reply_room(struct kv_client *c, size_t len)
{
    struct kv_client_core *cc = c->core;
    if (c->flags & KV_CLIENT_CLOSE_ASAP)
        cc->out_len = cc->out_sent;   /* dropped anyway (kv_batch_emit) */
    if (cc->out_len + len > cc->out_cap) {
        /* also when the replies of many clients together would pass what
         * the enclave's slot holds (kv_mem_would_exhaust) */
        if (cc->out_len - cc->out_sent + len > kv_client_output_limit() ||
            (cc->out_len + len > (1U << 20) && kv_mem_would_exhaust(cc->out_len + len))) {
            /* no more replies (CLOSE_AFTER_REPLY), closed now (ASAP) */
            c->flags |= KV_CLIENT_CLOSE_ASAP | KV_CLIENT_CLOSE_AFTER_REPLY;
            kv_client_schedule_close(c);
            cc->out_len = cc->out_sent;
        }
    }
    if (cc->out_len + len > cc->out_cap) {
        size_t cap = cc->out_cap ? cc->out_cap : 1024;
        while (cap < cc->out_len + len)
            cap *= 2;
        cc->out = kv_realloc(cc->out, cap);
        cc->out_cap = kv_usable(cc->out);
    }
    kv_client_mark_pending(c);
    char *p = cc->out + cc->out_len;
    cc->out_len += len;
    return p;
}

void kv_reply_raw(struct kv_client *c, const void *p, size_t len)
{
    if (c->flags & KV_CLIENT_CLOSE_AFTER_REPLY)
        return;   /* Redis drops replies after the close is decided */
    memcpy(kv_reply_room(c, len), p, len);
}

void kv_reply_ok(struct kv_client *c) { kv_reply_raw(c, "+OK\r\n", 5); }

void kv_reply_status(struct kv_client *c, const char *s)
{
    size_t n = strlen(s);
    if (c->flags & KV_CLIENT_CLOSE_AFTER_REPLY)
        return;
    char *p = kv_reply_room(c, n + 3);
    p[0] = '+';
    memcpy(p + 1, s, n);
    memcpy(p + 1 + n, "\r\n", 2);
}

/* addReplyErrorLength: "-ERR " unless msg has its own code; newlines in the
 * text would break the protocol, so they become spaces (as Redis does). */
/* Redis's afterErrorReply: every error counts, by its code (the word after
 * '-' when the space ending it is in the first 32 bytes, else "ERR"); codes
 * past KV_ERRSTATS_MAX only count in the total. */
static void kv_count_error(const char *msg, size_t len, bool coded)
{
    struct kv_server *s = kv_server();
    s->stat_error_replies++;
    const char *code = "ERR";
    size_t n = 3;
    const char *space = coded ? memchr(msg, ' ', len < 32 ? len : 32) : NULL;
    if (space) {
        code = msg + 1;
        n = (size_t)(space - msg) - 1;
    }
    uint32_t i = 0;
    for (; i < s->nerrstats; i++) {
        int cmp = strncmp(s->errstats[i].code, code, n);
        if (cmp == 0 && s->errstats[i].code[n] == '\0') {
            s->errstats[i].count++;
            return;
        }
        if (cmp > 0 || (cmp == 0 && s->errstats[i].code[n] > '\0'))
            break;
    }
    if (s->nerrstats == KV_ERRSTATS_MAX)
        return;
    memmove(&s->errstats[i + 1], &s->errstats[i], (s->nerrstats - i) * sizeof s->errstats[0]);
    s->nerrstats++;
    memcpy(s->errstats[i].code, code, n);   /* n < 32: the space was in the first 32 */
    s->errstats[i].code[n] = '\0';
    s->errstats[i].count = 1;
}

void kv_reply_error_len(struct kv_client *c, const char *msg, size_t len)
{
    bool coded = len && msg[0] == '-';
    kv_count_error(msg, len, coded);
    if (c->flags & KV_CLIENT_CLOSE_AFTER_REPLY)
        return;
    size_t total = (coded ? 0 : 5) + len + 2;
    char *p = kv_reply_room(c, total);
    if (!coded) {
        memcpy(p, "-ERR ", 5);
        p += 5;
    }
    for (size_t i = 0; i < len; i++)
        p[i] = msg[i] == '\r' || msg[i] == '\n' ? ' ' : msg[i];
    memcpy(p + len, "\r\n", 2);
}

void kv_reply_error(struct kv_client *c, const char *msg)
{
    kv_reply_error_len(c, msg, strlen(msg));
}

void kv_reply_errorf(struct kv_client *c, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    kv_reply_error_len(c, buf, (size_t)n);
}

static void kv_reply_prefixed_int(struct kv_client *c, char prefix, int64_t v)
{
    char buf[32];
    buf[0] = prefix;
    size_t n = 1 + kv_ll2str(buf + 1, v);
    buf[n++] = '\r';
    buf[n++] = '\n';
    kv_reply_raw(c, buf, n);
}

void kv_reply_int(struct kv_client *c, int64_t v)
{
    if (v == 0)
        kv_reply_raw(c, ":0\r\n", 4);
    else if (v == 1)
        kv_reply_raw(c, ":1\r\n", 4);
    else
        kv_reply_prefixed_int(c, ':', v);
}

void kv_reply_bulk(struct kv_client *c, const void *p, size_t len)
{
    if (c->flags & KV_CLIENT_CLOSE_AFTER_REPLY)
        return;
    char head[32];
    head[0] = '$';
    size_t hn = 1 + kv_ll2str(head + 1, (int64_t)len);
    head[hn++] = '\r';
    head[hn++] = '\n';
    char *o = kv_reply_room(c, hn + len + 2);
    memcpy(o, head, hn);
    if (len)
        memcpy(o + hn, p, len);
    memcpy(o + hn + len, "\r\n", 2);
}

void kv_reply_bulk_str(struct kv_client *c, const struct kv_str *s)
{
    kv_reply_bulk(c, s->data, s->len);
}

void kv_reply_bulk_obj(struct kv_client *c, const struct kv_obj *o)
{
    char buf[24];
    size_t len;
    const char *p = kv_obj_string(o, buf, &len);
    kv_reply_bulk(c, p, len);
}

void kv_reply_bulk_int(struct kv_client *c, int64_t v)
{
    char buf[24];
    size_t n = kv_ll2str(buf, v);
    kv_reply_bulk(c, buf, n);
}

void kv_reply_double(struct kv_client *c, double d)
{
    char buf[64];
    int n = kv_double_format(d, buf, sizeof buf);
    kv_reply_bulk(c, buf, (size_t)n);
}

void kv_reply_null(struct kv_client *c) { kv_reply_raw(c, "$-1\r\n", 5); }
void kv_reply_null_array(struct kv_client *c) { kv_reply_raw(c, "*-1\r\n", 5); }
void kv_reply_array(struct kv_client *c, int64_t n) { kv_reply_prefixed_int(c, '*', n); }

/* The handle is the offset (+1) where the header goes; it is inserted when
 * the length is known. Handles are set innermost first, as Redis uses them. */
void *kv_reply_deferred_len(struct kv_client *c)
{
    if (c->flags & KV_CLIENT_CLOSE_AFTER_REPLY)
        return NULL;
    kv_client_mark_pending(c);
    return (void *)(uintptr_t)(c->core->out_len + 1);
}

void kv_reply_set_deferred_len(struct kv_client *c, void *handle, int64_t n)
{
    if (!handle || (c->flags & KV_CLIENT_CLOSE_AFTER_REPLY))
        return;
    size_t at = (size_t)(uintptr_t)handle - 1;
    char head[32];
    head[0] = '*';
    size_t hn = 1 + kv_ll2str(head + 1, n);
    head[hn++] = '\r';
    head[hn++] = '\n';
    struct kv_client_core *cc = c->core;
    size_t tail = cc->out_len - at;
    kv_reply_room(c, hn);
    memmove(cc->out + at + hn, cc->out + at, tail);
    memcpy(cc->out + at, head, hn);
}

void kv_reply_wrongtype(struct kv_client *c)
{
    kv_reply_error(c, "-WRONGTYPE Operation against a key holding the wrong kind of value");
}

void kv_reply_syntax_error(struct kv_client *c) { kv_reply_error(c, "syntax error"); }

void kv_reply_not_integer(struct kv_client *c)
{
    kv_reply_error(c, "value is not an integer or out of range");
}

void kv_reply_not_float(struct kv_client *c) { kv_reply_error(c, "value is not a valid float"); }

bool kv_arg_int64(struct kv_client *c, const struct kv_str *arg, int64_t *out)
{
    if (kv_str_to_int64(arg, out))
        return true;
    kv_reply_not_integer(c);
    return false;
}

bool kv_arg_double(struct kv_client *c, const struct kv_str *arg, double *out)
{
    if (kv_str_to_double(arg, out))
        return true;
    kv_reply_not_float(c);
    return false;
}

bool kv_arg_range(struct kv_client *c, const struct kv_str *arg, int64_t min, int64_t max,
                  const char *msg, int64_t *out)
{
    int64_t v;
    if (!kv_str_to_int64(arg, &v)) {
        if (msg)
            kv_reply_error(c, msg);
        else
            kv_reply_not_integer(c);
        return false;
    }
    if (v < min || v > max) {
        if (msg)
            kv_reply_error(c, msg);
        else
            kv_reply_errorf(c, "value is out of range, value must between %lld and %lld",
                            (long long)min, (long long)max);
        return false;
    }
    *out = v;
    return true;
}
