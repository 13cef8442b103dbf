/* String commands (t_string.c): GET, SET and its family, counters, APPEND,
 * STRLEN, GETRANGE, SETRANGE, MGET, MSET, MSETNX. Replies and errors are
 * Redis 7.0's. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "kv_server.h"

#define KV_SET_NX 1U
#define KV_SET_XX 2U
#define KV_SET_GET 4U
#define KV_SET_KEEPTTL 8U
#define KV_SET_EX 16U
#define KV_SET_PX 32U
#define KV_SET_EXAT 64U
#define KV_SET_PXAT 128U
#define KV_SET_EXPIRE (KV_SET_EX | KV_SET_PX | KV_SET_EXAT | KV_SET_PXAT)

/* The value argument as an object: INT-encoded when it is a number, else the
 * argument itself is taken (no copy). */
static struct kv_obj *kv_string_from_arg(struct kv_client *c, int i)
{
    struct kv_str *arg = c->argv[i];
    int64_t v;
    if (arg->len <= 20 && kv_str_to_int64(arg, &v))
        return kv_obj_new_int(v);
    c->argv[i] = NULL;
    return kv_obj_new(KV_STRING, KV_ENC_RAW, arg);
}

static size_t kv_string_len(const struct kv_obj *o)
{
    char buf[24];
    size_t len;
    kv_obj_string(o, buf, &len);
    return len;
}

/* A string object as a raw kv_str, ready to change in place (o comes from
 * kv_db_lookup_write). */
static struct kv_str *kv_string_unshare(struct kv_obj *o)
{
    if (o->encoding == KV_ENC_INT) {
        o->ptr = kv_str_from_int(o->i);
        o->encoding = KV_ENC_RAW;
    }
    o->reserved |= KV_OBJ_GROWN;
    return o->ptr;
}

/* Redis's checkStringLength, plus: a string grown past what the enclave's
 * slot can hold (SETRANGE far out on a tiny command) is refused with the OOM
 * error rather than ending the store. */
static bool kv_check_string_length(struct kv_client *c, uint64_t size, uint64_t append)
{
    if (size + append > kv_server()->config.proto_max_bulk_len) {
        kv_reply_error(c, "string exceeds maximum allowed size (proto-max-bulk-len)");
        return false;
    }
    if (kv_mem_would_exhaust(2 * (size + append))) {
        kv_reply_error(c, "-OOM command not allowed when used memory > 'maxmemory'.");
        return false;
    }
    return true;
}

static void kv_reply_expire_time_error(struct kv_client *c)
{
    const char *name = c->core->last_cmd ? c->core->last_cmd->name : "set";
    kv_reply_errorf(c, "invalid expire time in '%s' command", name);
}

/* getGenericCommand: false when the key holds another type (replied). */
static bool kv_get_generic(struct kv_client *c)
{
    bool replied;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_STRING, &replied);
    if (replied)
        return false;
    if (!o)
        kv_reply_null(c);
    else
        kv_reply_bulk_obj(c, o);
    return true;
}

/* The expiry argument in ms since the epoch; false after the error. */
static bool kv_expire_arg(struct kv_client *c, const struct kv_str *arg, uint32_t flags,
                          int64_t *when)
{
    int64_t v;
    if (!kv_arg_int64(c, arg, &v))
        return false;
    bool seconds = flags & (KV_SET_EX | KV_SET_EXAT);
    if (v <= 0 || (seconds && v > INT64_MAX / 1000)) {
        kv_reply_expire_time_error(c);
        return false;
    }
    if (seconds)
        v *= 1000;
    if (flags & (KV_SET_EX | KV_SET_PX)) {
        if (__builtin_add_overflow(v, kv_now_ms(), &v)) {
            kv_reply_expire_time_error(c);
            return false;
        }
    }
    *when = v;
    return true;
}

static void kv_set_generic(struct kv_client *c, uint32_t flags, int key_i, int val_i,
                           const struct kv_str *expire, const char *ok, const char *abort)
{
    int64_t when = 0;
    if (expire && !kv_expire_arg(c, expire, flags, &when))
        return;
    if ((flags & KV_SET_GET) && !kv_get_generic(c))
        return;
    const struct kv_str *key = c->argv[key_i];
    bool found = kv_db_exists_for_write(c, key);
    if (((flags & KV_SET_NX) && found) || ((flags & KV_SET_XX) && !found)) {
        if (!(flags & KV_SET_GET))
            kv_reply_raw(c, abort, strlen(abort));
        return;
    }
    kv_db_set(c, key, kv_string_from_arg(c, val_i), flags & KV_SET_KEEPTTL);
    if (expire)
        kv_db_set_expire(c, key, when);
    if (!(flags & KV_SET_GET))
        kv_reply_raw(c, ok, strlen(ok));
}

static bool kv_opt2(const struct kv_str *s, char a, char b)
{
    return s->len >= 2 && (s->data[0] | 0x20) == a && (s->data[1] | 0x20) == b &&
           s->data[2] == '\0';
}

static void kv_cmd_set(struct kv_client *c)
{
    uint32_t flags = 0;
    const struct kv_str *expire = NULL;
    for (int j = 3; j < c->argc; j++) {
        const struct kv_str *opt = c->argv[j];
        const struct kv_str *next = j == c->argc - 1 ? NULL : c->argv[j + 1];
        if (kv_opt2(opt, 'n', 'x') && !(flags & KV_SET_XX)) {
            flags |= KV_SET_NX;
        } else if (kv_opt2(opt, 'x', 'x') && !(flags & KV_SET_NX)) {
            flags |= KV_SET_XX;
        } else if (strcasecmp(opt->data, "get") == 0) {
            flags |= KV_SET_GET;
        } else if (strcasecmp(opt->data, "keepttl") == 0 && !(flags & KV_SET_EXPIRE)) {
            flags |= KV_SET_KEEPTTL;
        } else if (kv_opt2(opt, 'e', 'x') && !(flags & KV_SET_KEEPTTL) &&
                   !(flags & (KV_SET_EXAT | KV_SET_PX | KV_SET_PXAT)) && next) {
            flags |= KV_SET_EX;
            expire = next;
            j++;
        } else if (kv_opt2(opt, 'p', 'x') && !(flags & KV_SET_KEEPTTL) &&
                   !(flags & (KV_SET_EX | KV_SET_EXAT | KV_SET_PXAT)) && next) {
            flags |= KV_SET_PX;
            expire = next;
            j++;
        } else if (strcasecmp(opt->data, "exat") == 0 && !(flags & KV_SET_KEEPTTL) &&
                   !(flags & (KV_SET_EX | KV_SET_PX | KV_SET_PXAT)) && next) {
            flags |= KV_SET_EXAT;
            expire = next;
            j++;
        } else if (strcasecmp(opt->data, "pxat") == 0 && !(flags & KV_SET_KEEPTTL) &&
                   !(flags & (KV_SET_EX | KV_SET_EXAT | KV_SET_PX)) && next) {
            flags |= KV_SET_PXAT;
            expire = next;
            j++;
        } else {
            kv_reply_syntax_error(c);
            return;
        }
    }
    kv_set_generic(c, flags, 1, 2, expire, "+OK\r\n", "$-1\r\n");
}

static void kv_cmd_setnx(struct kv_client *c)
{
    kv_set_generic(c, KV_SET_NX, 1, 2, NULL, ":1\r\n", ":0\r\n");
}

static void kv_cmd_setex(struct kv_client *c)
{
    kv_set_generic(c, KV_SET_EX, 1, 3, c->argv[2], "+OK\r\n", "$-1\r\n");
}

static void kv_cmd_psetex(struct kv_client *c)
{
    kv_set_generic(c, KV_SET_PX, 1, 3, c->argv[2], "+OK\r\n", "$-1\r\n");
}

static void kv_cmd_get(struct kv_client *c) { kv_get_generic(c); }

static void kv_cmd_getset(struct kv_client *c)
{
    if (!kv_get_generic(c))
        return;
    kv_db_set(c, c->argv[1], kv_string_from_arg(c, 2), false);
}

static void kv_cmd_getdel(struct kv_client *c)
{
    bool replied;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_STRING, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_null(c);
        return;
    }
    kv_reply_bulk_obj(c, o);
    kv_db_delete(c, c->argv[1]);
}

static void kv_cmd_mget(struct kv_client *c)
{
    kv_reply_array(c, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        struct kv_obj *o = kv_db_lookup_read(c, c->argv[j]);
        if (!o || o->type != KV_STRING)
            kv_reply_null(c);
        else
            kv_reply_bulk_obj(c, o);
    }
}

static void kv_mset_generic(struct kv_client *c, bool nx)
{
    if (c->argc % 2 == 0) {
        kv_reply_errorf(c, "wrong number of arguments for '%s' command", nx ? "msetnx" : "mset");
        return;
    }
    if (nx)
        for (int j = 1; j < c->argc; j += 2)
            if (kv_db_exists_for_write(c, c->argv[j])) {
                kv_reply_int(c, 0);
                return;
            }
    for (int j = 1; j < c->argc; j += 2)
        kv_db_set(c, c->argv[j], kv_string_from_arg(c, j + 1), false);
    if (nx)
        kv_reply_int(c, 1);
    else
        kv_reply_ok(c);
}

static void kv_cmd_mset(struct kv_client *c) { kv_mset_generic(c, false); }
static void kv_cmd_msetnx(struct kv_client *c) { kv_mset_generic(c, true); }

static void kv_incr_generic(struct kv_client *c, int64_t incr)
{
    bool replied;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_STRING, &replied);
    if (replied)
        return;
    int64_t value = 0;
    if (o) {
        if (o->encoding == KV_ENC_INT) {
            value = o->i;
        } else if (!kv_str_to_int64(o->ptr, &value)) {
            kv_reply_not_integer(c);
            return;
        }
    }
    if ((incr < 0 && value < 0 && incr < INT64_MIN - value) ||
        (incr > 0 && value > 0 && incr > INT64_MAX - value)) {
        kv_reply_error(c, "increment or decrement would overflow");
        return;
    }
    value += incr;
    if (o) {
        if (o->encoding == KV_ENC_RAW)
            kv_str_free(o->ptr);
        o->encoding = KV_ENC_INT;
        o->i = value;
        kv_key_modified(c, c->argv[1]);
    } else {
        kv_db_add(c, c->argv[1], kv_obj_new_int(value));
    }
    kv_reply_int(c, value);
}

static void kv_cmd_incr(struct kv_client *c) { kv_incr_generic(c, 1); }
static void kv_cmd_decr(struct kv_client *c) { kv_incr_generic(c, -1); }

static void kv_cmd_incrby(struct kv_client *c)
{
    int64_t incr;
    if (kv_arg_int64(c, c->argv[2], &incr))
        kv_incr_generic(c, incr);
}

static void kv_cmd_decrby(struct kv_client *c)
{
    int64_t incr;
    if (!kv_arg_int64(c, c->argv[2], &incr))
        return;
    if (incr == INT64_MIN) {
        kv_reply_error(c, "decrement would overflow");
        return;
    }
    kv_incr_generic(c, -incr);
}

static void kv_cmd_incrbyfloat(struct kv_client *c)
{
    bool replied;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_STRING, &replied);
    if (replied)
        return;
    long double value = 0, incr;
    if (o) {
        if (o->encoding == KV_ENC_INT) {
            value = (long double)o->i;
        } else if (!kv_str_to_long_double(o->ptr, &value)) {
            kv_reply_not_float(c);
            return;
        }
    }
    if (!kv_str_to_long_double(c->argv[2], &incr)) {
        kv_reply_not_float(c);
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        kv_reply_error(c, "increment would produce NaN or Infinity");
        return;
    }
    char buf[5 * 1024 + 32];
    int n = kv_long_double_format(value, buf, sizeof buf);
    struct kv_str *s = kv_str_new(buf, (size_t)n);
    if (o) {
        if (o->encoding == KV_ENC_RAW)
            kv_str_free(o->ptr);
        o->encoding = KV_ENC_RAW;
        o->ptr = s;
        kv_key_modified(c, c->argv[1]);
    } else {
        kv_db_add(c, c->argv[1], kv_obj_new(KV_STRING, KV_ENC_RAW, s));
    }
    kv_reply_bulk(c, buf, (size_t)n);
}

static void kv_cmd_append(struct kv_client *c)
{
    bool replied;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_STRING, &replied);
    if (replied)
        return;
    size_t total;
    if (!o) {
        total = c->argv[2]->len;
        kv_db_add(c, c->argv[1], kv_string_from_arg(c, 2));
    } else {
        const struct kv_str *add = c->argv[2];
        if (!kv_check_string_length(c, kv_string_len(o), add->len))
            return;
        struct kv_str *s = kv_string_unshare(o);
        o->ptr = s = kv_str_append(s, add->data, add->len);
        total = s->len;
        kv_key_modified(c, c->argv[1]);
    }
    kv_reply_int(c, (int64_t)total);
}

static void kv_cmd_strlen(struct kv_client *c)
{
    bool replied;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_STRING, &replied);
    if (replied)
        return;
    kv_reply_int(c, o ? (int64_t)kv_string_len(o) : 0);
}

static void kv_cmd_getrange(struct kv_client *c)
{
    int64_t start, end;
    if (!kv_arg_int64(c, c->argv[2], &start) || !kv_arg_int64(c, c->argv[3], &end))
        return;
    bool replied;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_STRING, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_raw(c, "$0\r\n\r\n", 6);
        return;
    }
    char buf[24];
    size_t len;
    const char *p = kv_obj_string(o, buf, &len);
    int64_t n = (int64_t)len;
    if (start < 0 && end < 0 && start > end) {
        kv_reply_raw(c, "$0\r\n\r\n", 6);
        return;
    }
    if (start < 0)
        start = n + start;
    if (end < 0)
        end = n + end;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= n)
        end = n - 1;
    if (start > end || n == 0)
        kv_reply_raw(c, "$0\r\n\r\n", 6);
    else
        kv_reply_bulk(c, p + start, (size_t)(end - start + 1));
}

static void kv_cmd_setrange(struct kv_client *c)
{
    int64_t offset;
    if (!kv_arg_int64(c, c->argv[2], &offset))
        return;
    if (offset < 0) {
        kv_reply_error(c, "offset is out of range");
        return;
    }
    const struct kv_str *value = c->argv[3];
    bool replied;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_STRING, &replied);
    if (replied)
        return;
    struct kv_str *s;
    if (!o) {
        if (value->len == 0) {
            kv_reply_int(c, 0);
            return;
        }
        if (!kv_check_string_length(c, (uint64_t)offset, value->len))
            return;
        o = kv_obj_new(KV_STRING, KV_ENC_RAW, kv_str_new("", 0));
        kv_db_add(c, c->argv[1], o);
    } else {
        size_t olen = kv_string_len(o);
        if (value->len == 0) {
            kv_reply_int(c, (int64_t)olen);
            return;
        }
        if (!kv_check_string_length(c, (uint64_t)offset, value->len))
            return;
    }
    s = kv_string_unshare(o);
    size_t need = (size_t)offset + value->len;
    if (need > s->len) {
        s = kv_str_reserve(s, need);
        memset(s->data + s->len, 0, need - s->len);
        s->len = (uint32_t)need;
        s->data[need] = '\0';
    }
    memcpy(s->data + offset, value->data, value->len);
    o->ptr = s;
    kv_key_modified(c, c->argv[1]);
    kv_reply_int(c, (int64_t)s->len);
}

#define W (KV_CMD_WRITE | KV_CMD_DENYOOM)
#define R (KV_CMD_READONLY)
#define F KV_CMD_FAST
const struct kv_command kv_string_commands[] = {
    { "get", kv_cmd_get, 2, R | F, 1, 1, 1, "string", "Returns the string value of a key." },
    { "set", kv_cmd_set, -3, W, 1, 1, 1, "string",
      "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist." },
    { "setnx", kv_cmd_setnx, 3, W | F, 1, 1, 1, "string",
      "Set the string value of a key only when the key doesn't exist." },
    { "setex", kv_cmd_setex, 4, W, 1, 1, 1, "string",
      "Sets the string value and expiration time of a key. Creates the key if it doesn't exist." },
    { "psetex", kv_cmd_psetex, 4, W, 1, 1, 1, "string",
      "Sets both string value and expiration time in milliseconds of a key." },
    { "getset", kv_cmd_getset, 3, W | F, 1, 1, 1, "string",
      "Returns the previous string value of a key after setting it to a new value." },
    { "getdel", kv_cmd_getdel, 2, KV_CMD_WRITE | F, 1, 1, 1, "string",
      "Returns the string value of a key after deleting the key." },
    { "mget", kv_cmd_mget, -2, R | F, 1, -1, 1, "string",
      "Atomically returns the string values of one or more keys." },
    { "mset", kv_cmd_mset, -3, W, 1, -1, 2, "string",
      "Atomically creates or modifies the string values of one or more keys." },
    { "msetnx", kv_cmd_msetnx, -3, W, 1, -1, 2, "string",
      "Atomically modifies the string values of one or more keys only when all keys don't exist." },
    { "incr", kv_cmd_incr, 2, W | F, 1, 1, 1, "string",
      "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist." },
    { "decr", kv_cmd_decr, 2, W | F, 1, 1, 1, "string",
      "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist." },
    { "incrby", kv_cmd_incrby, 3, W | F, 1, 1, 1, "string",
      "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist." },
    { "decrby", kv_cmd_decrby, 3, W | F, 1, 1, 1, "string",
      "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist." },
    { "incrbyfloat", kv_cmd_incrbyfloat, 3, W | F, 1, 1, 1, "string",
      "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist." },
    { "append", kv_cmd_append, 3, W | F, 1, 1, 1, "string",
      "Appends a string to the value of a key. Creates the key if it doesn't exist." },
    { "strlen", kv_cmd_strlen, 2, R | F, 1, 1, 1, "string", "Returns the length of a string value." },
    { "getrange", kv_cmd_getrange, 4, R, 1, 1, 1, "string",
      "Returns a substring of the string stored at a key." },
    { "setrange", kv_cmd_setrange, 4, W, 1, 1, 1, "string",
      "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist." },
    { .name = NULL },
};
