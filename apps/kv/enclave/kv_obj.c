/* Objects of the keyspace, the string type's ops, and the copy-on-write
 * rule for snapshots (kv.h): an object made before the running snapshot
 * began (epoch <= snapshot_epoch) is neither changed nor freed while it
 * runs; kv_obj_release defers its free to kv_snapshot_end. */
#include <string.h>

#include "kv_server.h"

static void kv_string_free(struct kv_obj *o)
{
    if (o->encoding == KV_ENC_RAW)
        kv_str_free(o->ptr);
}

static void kv_string_dup(struct kv_obj *dst, const struct kv_obj *src)
{
    dst->encoding = src->encoding;
    if (src->encoding == KV_ENC_RAW)
        dst->ptr = kv_str_dup(src->ptr);
    else
        dst->i = src->i;
}

const struct kv_type_ops kv_string_type = { "string", kv_string_free, kv_string_dup };

const struct kv_type_ops *kv_type_ops(const struct kv_obj *o)
{
    switch (o->type) {
    case KV_STRING: return &kv_string_type;
    case KV_LIST: return &kv_list_type;
    case KV_SET: return &kv_set_type;
    case KV_ZSET: return &kv_zset_type;
    case KV_HASH: return &kv_hash_type;
    }
    __builtin_trap();
}

struct kv_obj *kv_obj_new(enum kv_type type, enum kv_encoding enc, void *ptr)
{
    struct kv_obj *o = kv_alloc(sizeof *o);
    o->type = (uint8_t)type;
    o->encoding = (uint8_t)enc;
    o->reserved = 0;
    o->epoch = kv_server()->epoch;
    o->ptr = ptr;
    return o;
}

struct kv_obj *kv_obj_new_int(int64_t v)
{
    struct kv_obj *o = kv_obj_new(KV_STRING, KV_ENC_INT, NULL);
    o->i = v;
    return o;
}

struct kv_obj *kv_obj_new_string(const void *p, size_t len)
{
    int64_t v;
    /* Redis INT-encodes strings of up to 20 chars that string2ll accepts */
    if (len <= 20 && kv_parse_int64(p, len, &v))
        return kv_obj_new_int(v);
    return kv_obj_new(KV_STRING, KV_ENC_RAW, kv_str_new(p, len));
}

const char *kv_obj_string(const struct kv_obj *o, char *buf, size_t *len)
{
    if (o->encoding == KV_ENC_INT) {
        *len = kv_ll2str(buf, o->i);
        return buf;
    }
    const struct kv_str *s = o->ptr;
    *len = s->len;
    return s->data;
}

static bool kv_obj_held_by_snapshot(const struct kv_server *s, const struct kv_obj *o)
{
    return s->snapshot_running && o->epoch <= s->snapshot_epoch;
}

void kv_obj_free_now(struct kv_obj *o)
{
    kv_type_ops(o)->free(o);
    kv_free(o);
}

void kv_obj_release(struct kv_obj *o)
{
    if (!o)
        return;
    struct kv_server *s = kv_server();
    if (kv_obj_held_by_snapshot(s, o)) {
        if (s->deferred_count == s->deferred_cap) {
            s->deferred_cap = s->deferred_cap ? s->deferred_cap * 2 : 64;
            s->deferred = kv_realloc(s->deferred, s->deferred_cap * sizeof *s->deferred);
        }
        s->deferred[s->deferred_count++] = o;
        return;
    }
    kv_obj_free_now(o);
}

/* A copy of o made in the current epoch (for kv_db_lookup_write); its
 * bytes count as the snapshot's copy-on-write (rdb_last_cow_size). */
struct kv_obj *kv_obj_copy(const struct kv_obj *o)
{
    struct kv_server *s = kv_server();
    size_t before = s->mem.used;
    struct kv_obj *c = kv_obj_new((enum kv_type)o->type, (enum kv_encoding)o->encoding, NULL);
    kv_type_ops(o)->dup(c, o);
    c->reserved = o->reserved;
    s->cow_bytes += s->mem.used - before;
    return c;
}

bool kv_obj_needs_copy(const struct kv_obj *o) { return kv_obj_held_by_snapshot(kv_server(), o); }
