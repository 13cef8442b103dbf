/* Hash commands (Redis 7.0's t_hash.c: the same replies, errors and order
 * of checks). The value is a kv_dict: field -> struct kv_str * (v.ptr). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"
#include "t_hash.h"

/* Redis's MAX_LONG_DOUBLE_CHARS: room for "%.17Lf" of any long double. */
#define HASH_LD_CHARS (5 * 1024)

/* ---- The value and the type's ops (kv.h). */

static void hash_value_free(struct kv_dict_entry *e)
{
    kv_str_free(e->v.ptr);
}

static const struct kv_dict_type hash_dict_type = {.value_free = hash_value_free};

struct kv_dict *kv_hash_dict_new(void) { return kv_dict_new(&hash_dict_type); }

static void hash_type_free(struct kv_obj *o)
{
    kv_dict_free(o->ptr);
}

static void hash_type_dup(struct kv_obj *dst, const struct kv_obj *src)
{
    struct kv_dict *from = src->ptr, *to = kv_dict_new(&hash_dict_type);
    struct kv_dict_iter it;
    struct kv_dict_entry *e;
    kv_dict_iter_init(&it, from);
    while ((e = kv_dict_iter_next(&it))) {
        struct kv_dict_entry *n = kv_dict_add(to, e->key->data, e->key->len, NULL);
        n->v.ptr = kv_str_dup(e->v.ptr);
    }
    kv_dict_iter_done(&it);
    dst->ptr = to;
}

const struct kv_type_ops kv_hash_type = {
    .name = "hash",
    .free = hash_type_free,
    .dup = hash_type_dup,
};

/* ---- Helpers. */

static void reply_arity(struct kv_client *c, const char *name)
{
    kv_reply_errorf(c, "wrong number of arguments for '%s' command", name);
}

static struct kv_str *hash_get(struct kv_dict *d, const struct kv_str *field)
{
    struct kv_dict_entry *e = kv_dict_find(d, field->data, field->len);
    return e ? e->v.ptr : NULL;
}

/* Sets field to a copy of (p, len); true when the field is new. */
static bool hash_set(struct kv_dict *d, const struct kv_str *field, const void *p, size_t len)
{
    struct kv_dict_entry *existing;
    struct kv_dict_entry *e = kv_dict_add(d, field->data, field->len, &existing);
    if (e) {
        e->v.ptr = kv_str_new(p, len);
        return true;
    }
    kv_str_free(existing->v.ptr);
    existing->v.ptr = kv_str_new(p, len);
    return false;
}

/* The key's hash for writing, made (and added) when missing; NULL after
 * -WRONGTYPE. Only called once the command will store something, so no
 * empty hash is ever left in the keyspace. */
static struct kv_dict *hash_for_write(struct kv_client *c, struct kv_obj *o)
{
    if (o)
        return o->ptr;
    struct kv_dict *d = kv_dict_new(&hash_dict_type);
    kv_db_add(c, c->argv[1], kv_obj_new(KV_HASH, KV_ENC_HASHTABLE, d));
    return d;
}

static void reply_field(struct kv_client *c, struct kv_dict *d, const struct kv_str *field)
{
    struct kv_str *v = d ? hash_get(d, field) : NULL;
    if (v)
        kv_reply_bulk_str(c, v);
    else
        kv_reply_null(c);
}

/* ---- Setting. */

static void hset_generic(struct kv_client *c, const char *name, bool reply_created)
{
    if (c->argc % 2 == 1) {
        reply_arity(c, name);
        return;
    }
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_HASH, &replied);
    if (replied)
        return;
    struct kv_dict *d = hash_for_write(c, o);
    int64_t created = 0;
    for (int i = 2; i < c->argc; i += 2)
        created += hash_set(d, c->argv[i], c->argv[i + 1]->data, c->argv[i + 1]->len);
    if (reply_created)
        kv_reply_int(c, created);
    else
        kv_reply_ok(c);
    kv_key_modified(c, c->argv[1]);
}

static void hset_command(struct kv_client *c)
{
    hset_generic(c, "hset", true);
}

static void hmset_command(struct kv_client *c)
{
    hset_generic(c, "hmset", false);
}

static void hsetnx_command(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_HASH, &replied);
    if (replied)
        return;
    if (o && hash_get(o->ptr, c->argv[2])) {
        kv_reply_int(c, 0);
        return;
    }
    hash_set(hash_for_write(c, o), c->argv[2], c->argv[3]->data, c->argv[3]->len);
    kv_reply_int(c, 1);
    kv_key_modified(c, c->argv[1]);
}

static void hincrby_command(struct kv_client *c)
{
    int64_t incr, value = 0;
    if (!kv_arg_int64(c, c->argv[3], &incr))
        return;
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_HASH, &replied);
    if (replied)
        return;
    struct kv_str *old = o ? hash_get(o->ptr, c->argv[2]) : NULL;
    if (old && !kv_str_to_int64(old, &value)) {
        kv_reply_error(c, "hash value is not an integer");
        return;
    }
    if ((incr < 0 && value < 0 && incr < INT64_MIN - value) ||
        (incr > 0 && value > 0 && incr > INT64_MAX - value)) {
        kv_reply_error(c, "increment or decrement would overflow");
        return;
    }
    value += incr;
    char buf[24];
    int len = snprintf(buf, sizeof(buf), "%lld", (long long)value);
    hash_set(hash_for_write(c, o), c->argv[2], buf, (size_t)len);
    kv_reply_int(c, value);
    kv_key_modified(c, c->argv[1]);
}

static void hincrbyfloat_command(struct kv_client *c)
{
    long double incr, value = 0;
    if (!kv_str_to_long_double(c->argv[3], &incr)) {
        kv_reply_not_float(c);
        return;
    }
    if (isnan(incr) || isinf(incr)) {
        kv_reply_error(c, "value is NaN or Infinity");
        return;
    }
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_HASH, &replied);
    if (replied)
        return;
    struct kv_str *old = o ? hash_get(o->ptr, c->argv[2]) : NULL;
    if (old && !kv_str_to_long_double(old, &value)) {
        kv_reply_error(c, "hash value is not a float");
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        kv_reply_error(c, "increment would produce NaN or Infinity");
        return;
    }
    char buf[HASH_LD_CHARS];
    int len = kv_long_double_format(value, buf, sizeof(buf));
    hash_set(hash_for_write(c, o), c->argv[2], buf, (size_t)len);
    kv_reply_bulk(c, buf, (size_t)len);
    kv_key_modified(c, c->argv[1]);
}

/* ---- Reading. */

static struct kv_dict *hash_for_read(struct kv_client *c, bool *replied)
{
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_HASH, replied);
    return o ? o->ptr : NULL;
}

static void hget_command(struct kv_client *c)
{
    bool replied = false;
    struct kv_dict *d = hash_for_read(c, &replied);
    if (!replied)
        reply_field(c, d, c->argv[2]);
}

static void hmget_command(struct kv_client *c)
{
    bool replied = false;
    struct kv_dict *d = hash_for_read(c, &replied);
    if (replied)
        return;
    kv_reply_array(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++)
        reply_field(c, d, c->argv[i]);
}

static void hlen_command(struct kv_client *c)
{
    bool replied = false;
    struct kv_dict *d = hash_for_read(c, &replied);
    if (!replied)
        kv_reply_int(c, d ? (int64_t)kv_dict_size(d) : 0);
}

static void hstrlen_command(struct kv_client *c)
{
    bool replied = false;
    struct kv_dict *d = hash_for_read(c, &replied);
    if (replied)
        return;
    struct kv_str *v = d ? hash_get(d, c->argv[2]) : NULL;
    kv_reply_int(c, v ? (int64_t)v->len : 0);
}

static void hexists_command(struct kv_client *c)
{
    bool replied = false;
    struct kv_dict *d = hash_for_read(c, &replied);
    if (!replied)
        kv_reply_int(c, d && hash_get(d, c->argv[2]) ? 1 : 0);
}

enum { HASH_KEYS = 1, HASH_VALUES = 2 };

static void hgetall_generic(struct kv_client *c, int what)
{
    bool replied = false;
    struct kv_dict *d = hash_for_read(c, &replied);
    if (replied)
        return;
    if (!d) {
        kv_reply_array(c, 0);
        return;
    }
    int64_t n = (int64_t)kv_dict_size(d);
    kv_reply_array(c, what == (HASH_KEYS | HASH_VALUES) ? 2 * n : n);
    struct kv_dict_iter it;
    struct kv_dict_entry *e;
    kv_dict_iter_init(&it, d);
    while ((e = kv_dict_iter_next(&it))) {
        if (what & HASH_KEYS)
            kv_reply_bulk_str(c, e->key);
        if (what & HASH_VALUES)
            kv_reply_bulk_str(c, e->v.ptr);
    }
    kv_dict_iter_done(&it);
}

static void hkeys_command(struct kv_client *c)
{
    hgetall_generic(c, HASH_KEYS);
}

static void hvals_command(struct kv_client *c)
{
    hgetall_generic(c, HASH_VALUES);
}

static void hgetall_command(struct kv_client *c)
{
    hgetall_generic(c, HASH_KEYS | HASH_VALUES);
}

static void hscan_emit_value(struct kv_client *c, const struct kv_dict_entry *e)
{
    kv_reply_bulk_str(c, e->v.ptr);
}

/* Redis's parseScanCursorOrReply (strtoul: an optional sign, no space). */
static bool hscan_cursor_ok(const struct kv_str *s)
{
    char *end;
    errno = 0;
    (void)strtoull(s->data, &end, 10);
    return !(s->len && (s->data[0] == ' ' || (s->data[0] >= '\t' && s->data[0] <= '\r'))) &&
           *end == '\0' && errno != ERANGE;
}

static void hscan_command(struct kv_client *c)
{
    /* the cursor is checked before the key, the options only for a hash */
    if (!hscan_cursor_ok(c->argv[2])) {
        kv_reply_error(c, "invalid cursor");
        return;
    }
    bool replied = false;
    struct kv_dict *d = hash_for_read(c, &replied);
    if (replied)
        return;
    if (!d) {
        kv_reply_array(c, 2);
        kv_reply_bulk(c, "0", 1);
        kv_reply_array(c, 0);
        return;
    }
    kv_scan_reply(c, d, 2, hscan_emit_value);
}

/* ---- Deleting. */

static void hdel_command(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_HASH, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_int(c, 0);
        return;
    }
    struct kv_dict *d = o->ptr;
    int64_t deleted = 0;
    for (int j = 2; j < c->argc; j++) {
        if (kv_dict_delete(d, c->argv[j]->data, c->argv[j]->len)) {
            deleted++;
            if (kv_dict_size(d) == 0) {
                kv_db_delete(c, c->argv[1]);
                break;
            }
        }
    }
    if (deleted)
        kv_key_modified(c, c->argv[1]);
    kv_reply_int(c, deleted);
}

#define W KV_CMD_WRITE
#define M KV_CMD_DENYOOM
#define R KV_CMD_READONLY
#define F KV_CMD_FAST
const struct kv_command kv_hash_commands[] = {
    {"hset", hset_command, -4, W | M | F, 1, 1, 1, "hash", "Set the string value of a hash field"},
    {"hmset", hmset_command, -4, W | M | F, 1, 1, 1, "hash",
     "Set multiple hash fields to multiple values"},
    {"hsetnx", hsetnx_command, 4, W | M | F, 1, 1, 1, "hash",
     "Set the value of a hash field, only if the field does not exist"},
    {"hget", hget_command, 3, R | F, 1, 1, 1, "hash", "Get the value of a hash field"},
    {"hmget", hmget_command, -3, R | F, 1, 1, 1, "hash", "Get the values of all the given hash fields"},
    {"hdel", hdel_command, -3, W | F, 1, 1, 1, "hash", "Delete one or more hash fields"},
    {"hlen", hlen_command, 2, R | F, 1, 1, 1, "hash", "Get the number of fields in a hash"},
    {"hstrlen", hstrlen_command, 3, R | F, 1, 1, 1, "hash",
     "Get the length of the value of a hash field"},
    {"hexists", hexists_command, 3, R | F, 1, 1, 1, "hash", "Determine if a hash field exists"},
    {"hkeys", hkeys_command, 2, R, 1, 1, 1, "hash", "Get all the fields in a hash"},
    {"hvals", hvals_command, 2, R, 1, 1, 1, "hash", "Get all the values in a hash"},
    {"hgetall", hgetall_command, 2, R, 1, 1, 1, "hash", "Get all the fields and values in a hash"},
    {"hincrby", hincrby_command, 4, W | M | F, 1, 1, 1, "hash",
     "Increment the integer value of a hash field by the given number"},
    {"hincrbyfloat", hincrbyfloat_command, 4, W | M | F, 1, 1, 1, "hash",
     "Increment the float value of a hash field by the given amount"},
    {"hscan", hscan_command, -3, R, 1, 1, 1, "hash", "Incrementally iterate hash fields and associated values"},
    {.name = NULL},
};
