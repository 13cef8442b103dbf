/* The RDB writer (kv_persist.h): Redis 7.0's format, version 10, from a
 * snapshot it only reads. It may run in a forked child that sees the
 * parent's memory: so no kv_alloc/kv_server, no dict iterator (it pauses
 * rehashing, a write), no static buffer (two processes share the enclave's
 * .bss); output goes through a buffer on the stack.
 *
 * Types written: 0 string (int-encoded 0xC0-0xC2 when canonical and within
 * int32, as Redis's rdbTryIntegerEncoding; no LZF), 1 plain list (every
 * Redis loads it and converts it to its own encoding; a quicklist 2 would
 * mean writing listpacks that the checker deep-validates, for no gain to our
 * own loader), 2 set, 4 hash, 5 zset with binary scores, tail first as
 * Redis writes them (its loader then inserts at the head). */
#include <errno.h>
#include <string.h>

#include "kv_rdb.h"
#include "kv_server.h"
#include "t_list.h"
#include "t_zset.h"

#define RDB_OUT_BYTES (32U * 1024)   /* the enclave's stacks are 256 KiB */

struct rdb_out {
    struct kv_sink *sink;
    uint64_t crc;
    int err;             /* the first error; later writes are dropped */
    size_t used;
    unsigned char buf[RDB_OUT_BYTES];
};

static void out_flush(struct rdb_out *o)
{
    if (o->err || !o->used)
        return;
    o->crc = kv_crc64(o->crc, o->buf, o->used);
    o->err = o->sink->write(o->sink->arg, o->buf, o->used);
    o->used = 0;
}

static void out_put(struct rdb_out *o, const void *p, size_t n)
{
    if (o->err)
        return;
    if (n > sizeof o->buf - o->used) {
        out_flush(o);
        if (n >= sizeof o->buf) {   /* a big value goes out as it is */
            if (o->err)
                return;
            o->crc = kv_crc64(o->crc, p, n);
            o->err = o->sink->write(o->sink->arg, p, n);
            return;
        }
    }
    memcpy(o->buf + o->used, p, n);
    o->used += n;
}

static void out_byte(struct rdb_out *o, unsigned char b) { out_put(o, &b, 1); }

static void out_le(struct rdb_out *o, uint64_t v, int bytes)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    out_put(o, b, (size_t)bytes);
}

static void out_len(struct rdb_out *o, uint64_t len)
{
    unsigned char b[9];
    if (len < 64) {
        out_byte(o, (unsigned char)len);
    } else if (len < 16384) {
        b[0] = (unsigned char)(KV_RDB_14BITLEN << 6 | len >> 8);
        b[1] = (unsigned char)len;
        out_put(o, b, 2);
    } else if (len <= UINT32_MAX) {
        b[0] = KV_RDB_32BITLEN;
        for (int i = 0; i < 4; i++)
            b[1 + i] = (unsigned char)(len >> (24 - 8 * i));
        out_put(o, b, 5);
    } else {
        b[0] = KV_RDB_64BITLEN;
        for (int i = 0; i < 8; i++)
            b[1 + i] = (unsigned char)(len >> (56 - 8 * i));
        out_put(o, b, 9);
    }
}

/* rdbEncodeInteger: false when v needs more than 32 bits. */
static bool out_int_encoded(struct rdb_out *o, int64_t v)
{
    if (v >= INT8_MIN && v <= INT8_MAX) {
        out_byte(o, KV_RDB_ENCVAL << 6 | KV_RDB_ENC_INT8);
        out_le(o, (uint64_t)v, 1);
    } else if (v >= INT16_MIN && v <= INT16_MAX) {
        out_byte(o, KV_RDB_ENCVAL << 6 | KV_RDB_ENC_INT16);
        out_le(o, (uint64_t)v, 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        out_byte(o, KV_RDB_ENCVAL << 6 | KV_RDB_ENC_INT32);
        out_le(o, (uint64_t)v, 4);
    } else {
        return false;
    }
    return true;
}

/* rdbSaveLongLongAsStringObject. */
static void out_int_string(struct rdb_out *o, int64_t v)
{
    if (out_int_encoded(o, v))
        return;
    char buf[24];
    size_t n = kv_ll2str(buf, v);
    out_len(o, n);
    out_put(o, buf, n);
}

/* rdbSaveRawString without compression: a canonical integer (it prints
 * back the same) of at most 11 chars is int-encoded. */
static void out_string(struct rdb_out *o, const void *p, size_t len)
{
    int64_t v;
    char buf[24];
    if (len && len <= 11 && kv_parse_int64(p, len, &v) && kv_ll2str(buf, v) == len &&
        memcmp(buf, p, len) == 0 && out_int_encoded(o, v))
        return;
    out_len(o, len);
    out_put(o, p, len);
}

static void out_str(struct rdb_out *o, const struct kv_str *s) { out_string(o, s->data, s->len); }

/* A dict's entries, each through emit; -EIO when the count written is not
 * the size announced (nothing may change a value a snapshot holds). */
static void out_dict(struct rdb_out *o, const struct kv_dict *d, bool with_value)
{
    uint64_t n = kv_dict_size(d), written = 0;
    out_len(o, n);
    struct kv_dict_cursor cur = { 0 };
    const struct kv_dict_entry *e;
    while ((e = kv_dict_snapshot_next(d, &cur)) && !o->err) {
        out_str(o, e->key);
        if (with_value)
            out_str(o, e->v.ptr);
        written++;
    }
    if (!o->err && written != n)
        o->err = -EIO;
}

static void out_list(struct rdb_out *o, const struct kv_list *l)
{
    out_len(o, l->len);
    struct kv_list_iter it;
    /* the iterator only reads (t_list_chain.c); its API is not const */
    if (!kv_list_iter_at((struct kv_list *)l, 0, true, &it))
        return;
    do {
        size_t len;
        const unsigned char *p = kv_list_iter_get(&it, &len);
        out_string(o, p, len);
    } while (!o->err && kv_list_iter_next(&it));
}

static void out_zset(struct rdb_out *o, const struct kv_zset *zs)
{
    out_len(o, zs->zsl.length);
    for (const struct kv_zsl_node *n = zs->zsl.tail; n && !o->err; n = n->backward) {
        out_str(o, n->ele);
        uint64_t bits;
        memcpy(&bits, &n->score, 8);
        out_le(o, bits, 8);
    }
}

static uint64_t obj_length(const struct kv_obj *v)
{
    switch (v->type) {
    case KV_LIST: return ((const struct kv_list *)v->ptr)->len;
    case KV_SET:
    case KV_HASH: return kv_dict_size(v->ptr);
    case KV_ZSET: return ((const struct kv_zset *)v->ptr)->zsl.length;
    default: return 1;
    }
}

static void out_value(struct rdb_out *o, const struct kv_obj *v)
{
    switch (v->type) {
    case KV_STRING:
        out_byte(o, KV_RDB_TYPE_STRING);
        break;
    case KV_LIST:
        out_byte(o, KV_RDB_TYPE_LIST);
        break;
    case KV_SET:
        out_byte(o, KV_RDB_TYPE_SET);
        break;
    case KV_HASH:
        out_byte(o, KV_RDB_TYPE_HASH);
        break;
    case KV_ZSET:
        out_byte(o, KV_RDB_TYPE_ZSET_2);
        break;
    default:
        o->err = -EINVAL;
    }
}

static void out_object(struct rdb_out *o, const struct kv_obj *v)
{
    switch (v->type) {
    case KV_STRING:
        if (v->encoding == KV_ENC_INT)
            out_int_string(o, v->i);
        else
            out_str(o, v->ptr);
        break;
    case KV_LIST: out_list(o, v->ptr); break;
    case KV_SET: out_dict(o, v->ptr, false); break;
    case KV_HASH: out_dict(o, v->ptr, true); break;
    case KV_ZSET: out_zset(o, v->ptr); break;
    default: o->err = -EINVAL;
    }
}

/* The key's expiry in ms, -1 without. kv_dict_find never rehashes or
 * changes the table (kv_dict.c), so it is a read; its API is not const. */
static int64_t snapshot_expire(const struct kv_snapshot *snap, const struct kv_snapshot_db *db,
                               const struct kv_str *key)
{
    if (!db->expires_count && !snap->live)
        return -1;
    const struct kv_dict_entry *e = kv_dict_snapshot_find(db->expires, snap, key);
    return e ? e->v.i : -1;
}

static void out_aux(struct rdb_out *o, const char *key, const char *sval, int64_t ival)
{
    out_byte(o, KV_RDB_OP_AUX);
    out_string(o, key, strlen(key));
    if (sval)
        out_string(o, sval, strlen(sval));
    else
        out_int_string(o, ival);
}

static void out_db(struct rdb_out *o, const struct kv_snapshot *snap, int index,
                   const struct kv_snapshot_db *db)
{
    out_byte(o, KV_RDB_OP_SELECTDB);
    out_len(o, (uint64_t)index);
    out_byte(o, KV_RDB_OP_RESIZEDB);
    out_len(o, db->keys_count);
    out_len(o, db->expires_count);
    struct kv_dict_cursor cur = { .live = snap->live };
    const struct kv_dict_entry *e;
    while ((e = kv_dict_snapshot_next(db->keys, &cur)) && !o->err) {
        const struct kv_obj *v = e->v.ptr;
        if (!obj_length(v))
            continue;   /* never kept by the store; Redis's checker refuses them */
        int64_t when = snapshot_expire(snap, db, e->key);
        if (when != -1) {
            out_byte(o, KV_RDB_OP_EXPIRETIME_MS);
            out_le(o, (uint64_t)when, 8);
        }
        out_value(o, v);
        out_str(o, e->key);
        out_object(o, v);
    }
}

int kv_rdb_save(const struct kv_snapshot *snap, struct kv_sink *out)
{
    struct rdb_out o;
    o.sink = out;
    o.crc = 0;
    o.err = 0;
    o.used = 0;
    out_put(&o, "REDIS0010", 9);
    out_aux(&o, "redis-ver", "7.0.15", 0);
    out_aux(&o, "redis-bits", NULL, 64);
    out_aux(&o, "ctime", NULL, snap->start_ms / 1000);
    out_aux(&o, "used-mem", NULL, (int64_t)snap->used_memory);
    out_aux(&o, "aof-base", NULL, 0);
    for (int i = 0; i < snap->dbnum && !o.err; i++)
        if (snap->db[i].keys_count)
            out_db(&o, snap, i, &snap->db[i]);
    out_byte(&o, KV_RDB_OP_EOF);
    out_flush(&o);
    if (o.err)
        return o.err;
    uint64_t crc = o.crc;
    out_le(&o, crc, 8);
    o.crc = 0;
    out_flush(&o);
    return o.err;
}
