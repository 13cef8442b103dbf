/* RESP2 request parsing, as networking.c's processInlineBuffer and
 * processMultibulkBuffer: the same limits, the same errors, the same quirks
 * (lines are found with strchr, so a NUL before the CR hides it; the two
 * bytes after a bulk are skipped, not checked). A protocol error is replied
 * and the client closes after it. Partial input stays in the query buffer. */
#include <limits.h>
#include <string.h>

#include "kv_server.h"

#define KV_INLINE_MAX (64 * 1024)          /* PROTO_INLINE_MAX_SIZE */
#define KV_UNAUTH_MBULK_MAX (10)           /* multibulk length before AUTH (7.0: 10) */
#define KV_UNAUTH_BULK_MAX (16384)         /* bulk length before AUTH */

static bool kv_auth_required(const struct kv_client *c)
{
    return kv_server()->config.pass_len && !(c->flags & KV_CLIENT_AUTHENTICATED);
}

static void kv_resp_error(struct kv_client *c, const char *msg)
{
    kv_reply_errorf(c, "Protocol error: %s", msg);
    c->flags |= KV_CLIENT_CLOSE_AFTER_REPLY;
}

static void kv_resp_push(struct kv_client *c, const char *p, size_t len)
{
    struct kv_client_core *cc = c->core;
    if (c->argc == cc->argv_cap) {
        cc->argv_cap = cc->argv_cap ? cc->argv_cap * 2 : 8;
        c->argv = kv_realloc(c->argv, (size_t)cc->argv_cap * sizeof *c->argv);
    }
    c->argv[c->argc++] = kv_str_new(p, len);
}

static int kv_resp_inline(struct kv_client *c)
{
    struct kv_client_core *cc = c->core;
    char *start = cc->query->data + cc->qpos;
    char *nl = strchr(start, '\n');
    if (!nl) {
        if (cc->query->len - cc->qpos > KV_INLINE_MAX) {
            kv_resp_error(c, "too big inline request");
            return -1;
        }
        return 0;
    }
    size_t len = (size_t)(nl - start);
    if (len && start[len - 1] == '\r')
        len--;
    int argc;
    struct kv_str **argv = kv_split_args(start, len, &argc);
    if (!argv) {
        kv_resp_error(c, "unbalanced quotes in request");
        return -1;
    }
    cc->qpos += (size_t)(nl - start) + 1;
    for (int i = 0; i < argc; i++) {
        kv_resp_push(c, argv[i]->data, argv[i]->len);
    }
    kv_argv_free(argv, argc);
    return 1;
}

/* A "*N\r\n" or "$N\r\n" line at the read position: 1 with its number, 0
 * when incomplete. too_big: the error when no CR shows within the limit. */
static int kv_resp_count_line(struct kv_client *c, const char *too_big, char **line_end)
{
    struct kv_client_core *cc = c->core;
    char *start = cc->query->data + cc->qpos;
    char *cr = strchr(start, '\r');
    if (!cr) {
        if (cc->query->len - cc->qpos > KV_INLINE_MAX) {
            kv_resp_error(c, too_big);
            return -1;
        }
        return 0;
    }
    /* the buffer must also hold the \n */
    if ((size_t)(cr - start) > cc->query->len - cc->qpos - 2)
        return 0;
    *line_end = cr;
    return 1;
}

static int kv_resp_multibulk(struct kv_client *c)
{
    struct kv_client_core *cc = c->core;
    struct kv_server *s = kv_server();
    char *cr;
    if (cc->multibulk_len == 0) {
        int r = kv_resp_count_line(c, "too big mbulk count string", &cr);
        if (r <= 0)
            return r;
        char *start = cc->query->data + cc->qpos;
        int64_t ll;
        bool ok = kv_parse_int64(start + 1, (size_t)(cr - (start + 1)), &ll);
        if (!ok || ll > INT_MAX) {
            kv_resp_error(c, "invalid multibulk length");
            return -1;
        }
        if (ll > KV_UNAUTH_MBULK_MAX && kv_auth_required(c)) {
            kv_resp_error(c, "unauthenticated multibulk length");
            return -1;
        }
        cc->qpos = (size_t)(cr - cc->query->data) + 2;
        if (ll <= 0)
            return 1;   /* an empty command */
        cc->multibulk_len = ll;
        cc->bulk_len = -1;
    }
    while (cc->multibulk_len) {
        if (cc->bulk_len == -1) {
            int r = kv_resp_count_line(c, "too big bulk count string", &cr);
            if (r <= 0)
                return r;
            char *start = cc->query->data + cc->qpos;
            if (start[0] != '$') {
                /* a NUL here goes into the reply as Redis's %c puts it */
                kv_reply_errorf(c, "Protocol error: expected '$', got '%c'", start[0]);
                c->flags |= KV_CLIENT_CLOSE_AFTER_REPLY;
                return -1;
            }
            int64_t ll;
            bool ok = kv_parse_int64(start + 1, (size_t)(cr - (start + 1)), &ll);
            if (!ok || ll < 0 || (uint64_t)ll > s->config.proto_max_bulk_len) {
                kv_resp_error(c, "invalid bulk length");
                return -1;
            }
            if (ll > KV_UNAUTH_BULK_MAX && kv_auth_required(c)) {
                kv_resp_error(c, "unauthenticated bulk length");
                return -1;
            }
            cc->qpos = (size_t)(cr - cc->query->data) + 2;
            cc->bulk_len = ll;
        }
        if (cc->query->len - cc->qpos < (uint64_t)cc->bulk_len + 2)
            return 0;
        kv_resp_push(c, cc->query->data + cc->qpos, (size_t)cc->bulk_len);
        cc->qpos += (size_t)cc->bulk_len + 2;
        cc->bulk_len = -1;
        cc->multibulk_len--;
    }
    return 1;
}

int kv_resp_parse(struct kv_client *c)
{
    struct kv_client_core *cc = c->core;
    if (cc->qpos >= cc->query->len)
        return 0;
    if (!cc->reqtype)
        cc->reqtype = cc->query->data[cc->qpos] == '*' ? '*' : 'i';
    int r = cc->reqtype == '*' ? kv_resp_multibulk(c) : kv_resp_inline(c);
    if (r == 1)
        cc->reqtype = 0;
    return r;
}
