/* The RDB loader's values (kv_rdb.h): every type and encoding Redis 7.0
 * writes or still reads, built through the types' own constructors so that
 * encodings and used_memory are what commands would have made. Duplicate
 * members and fields are refused, as Redis's loader does; an empty value
 * comes back as NULL (Redis skips the key). */
#include <errno.h>
#include <string.h>

#include "kv_rdb.h"
#include "kv_server.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"

/* What the element callbacks build into. */
struct build {
    struct kv_rdb_reader *r;
    struct kv_obj *o;
    struct kv_str *pending;    /* a hash field / zset member waiting for its pair */
    const char *dup_what;      /* set by a callback that met a duplicate */
};

static int add_list(void *arg, const unsigned char *p, size_t len)
{
    struct build *b = arg;
    kv_list_push(b->o->ptr, p, len, false);
    return 0;
}

static int add_set(void *arg, const unsigned char *p, size_t len)
{
    struct build *b = arg;
    if (!kv_dict_add(b->o->ptr, p, len, NULL)) {
        b->dup_what = "set member";
        return -EINVAL;
    }
    return 0;
}

static int add_hash_owned(struct build *b, struct kv_str *field, struct kv_str *value)
{
    struct kv_dict_entry *e = kv_dict_add_owned(b->o->ptr, field, NULL);
    if (!e) {
        kv_str_free(field);
        kv_str_free(value);
        b->dup_what = "hash field";
        return -EINVAL;
    }
    e->v.ptr = value;
    return 0;
}

static int add_zset(struct build *b, struct kv_str *member, double score)
{
    double ignored;
    enum kv_zadd_result res = kv_zset_add(b->o->ptr, score, member, 0, &ignored);
    kv_str_free(member);
    if (res != KV_ZADD_ADDED) {
        b->dup_what = res == KV_ZADD_NAN ? "zset score (NaN)" : "zset member";
        return -EINVAL;
    }
    return 0;
}

/* Pairs from a packed blob: field then value (hash) or member then score
 * (zset, the score as a number in text or integer form). */
static int add_pair(void *arg, const unsigned char *p, size_t len)
{
    struct build *b = arg;
    if (!b->pending) {
        b->pending = kv_str_new(p, len);
        return 0;
    }
    struct kv_str *first = b->pending;
    b->pending = NULL;
    if (b->o->type == KV_HASH)
        return add_hash_owned(b, first, kv_str_new(p, len));
    struct kv_str *num = kv_str_new(p, len);
    double score;
    bool ok = kv_str_to_double(num, &score);
    kv_str_free(num);
    if (!ok) {
        kv_str_free(first);
        b->dup_what = "zset score (not a number)";
        return -EINVAL;
    }
    return add_zset(b, first, score);
}

static uint64_t obj_len(const struct kv_obj *o)
{
    switch (o->type) {
    case KV_LIST: return ((const struct kv_list *)o->ptr)->len;
    case KV_ZSET: return kv_zset_length(o->ptr);
    default: return kv_dict_size(o->ptr);
    }
}

static struct kv_obj *new_value(int type)
{
    switch (type) {
    case KV_RDB_TYPE_LIST:
    case KV_RDB_TYPE_LIST_ZIPLIST:
    case KV_RDB_TYPE_LIST_QUICKLIST:
    case KV_RDB_TYPE_LIST_QUICKLIST_2:
        return kv_obj_new(KV_LIST, KV_ENC_LIST, kv_list_new());
    case KV_RDB_TYPE_SET:
    case KV_RDB_TYPE_SET_INTSET:
        return kv_obj_new(KV_SET, KV_ENC_HASHTABLE, kv_set_dict_new());
    case KV_RDB_TYPE_HASH:
    case KV_RDB_TYPE_HASH_ZIPMAP:
    case KV_RDB_TYPE_HASH_ZIPLIST:
    case KV_RDB_TYPE_HASH_LISTPACK:
        return kv_obj_new(KV_HASH, KV_ENC_HASHTABLE, kv_hash_dict_new());
    case KV_RDB_TYPE_ZSET:
    case KV_RDB_TYPE_ZSET_2:
    case KV_RDB_TYPE_ZSET_ZIPLIST:
    case KV_RDB_TYPE_ZSET_LISTPACK:
        return kv_obj_new(KV_ZSET, KV_ENC_SKIPLIST, kv_zset_new());
    }
    return NULL;
}

/* A packed blob (read as a string) walked into b. */
static int read_packed(struct build *b, int (*walk)(const unsigned char *, size_t, kv_rdb_elem_fn,
                                                     void *, const char **),
                       kv_rdb_elem_fn fn, const char *name)
{
    struct kv_rdb_reader *r = b->r;
    uint64_t at = r->offset;
    struct kv_str *blob;
    int rc = kv_rdb_read_string(r, &blob);
    if (rc)
        return rc;
    const char *why = NULL;
    rc = walk((const unsigned char *)blob->data, blob->len, fn, b, &why);
    kv_str_free(blob);
    if (!rc && b->pending)
        why = "odd number of elements";
    if (why)
        return kv_rdb_fail(r, -EINVAL, "invalid %s (%s) at offset %llu", name, why,
                           (unsigned long long)at);
    if (rc)
        return kv_rdb_fail(r, rc, "duplicate or invalid %s in a %s at offset %llu", b->dup_what, name,
                           (unsigned long long)at);
    return 0;
}

/* The plain encodings: a count, then elements (or pairs). */
static int read_plain(struct build *b, int type)
{
    struct kv_rdb_reader *r = b->r;
    uint64_t n, at;
    int rc = kv_rdb_read_len(r, &n, NULL);
    for (uint64_t i = 0; !rc && i < n; i++) {
        at = r->offset;
        struct kv_str *s, *v;
        if ((rc = kv_rdb_read_string(r, &s)))
            break;
        switch (type) {
        case KV_RDB_TYPE_LIST:
            add_list(b, (const unsigned char *)s->data, s->len);
            kv_str_free(s);
            break;
        case KV_RDB_TYPE_SET:
            if (!kv_dict_add_owned(b->o->ptr, s, NULL)) {
                kv_str_free(s);
                b->dup_what = "set member";
                rc = -EINVAL;
            }
            break;
        case KV_RDB_TYPE_HASH:
            if ((rc = kv_rdb_read_string(r, &v))) {
                kv_str_free(s);
                return rc;
            }
            rc = add_hash_owned(b, s, v);
            break;
        default: {   /* zsets */
            double score;
            if (type == KV_RDB_TYPE_ZSET_2) {
                uint64_t bits = 0;
                unsigned char le[8];
                if (!(rc = kv_rdb_read(r, le, 8))) {
                    for (int j = 7; j >= 0; j--)
                        bits = bits << 8 | le[j];
                    memcpy(&score, &bits, 8);
                }
            } else {
                rc = kv_rdb_read_string_double(r, &score);
            }
            if (rc) {
                kv_str_free(s);
                return rc;
            }
            rc = add_zset(b, s, score);
        }
        }
        if (rc)
            return kv_rdb_fail(r, rc, "duplicate or invalid %s at offset %llu", b->dup_what,
                               (unsigned long long)at);
    }
    return rc;
}

/* quicklist (14: ziplists) and quicklist 2 (18: listpacks or plain nodes). */
static int read_quicklist(struct build *b, int type)
{
    struct kv_rdb_reader *r = b->r;
    uint64_t nodes;
    int rc = kv_rdb_read_len(r, &nodes, NULL);
    for (uint64_t i = 0; !rc && i < nodes; i++) {
        uint64_t container = KV_RDB_QL_PACKED, at = r->offset;
        if (type == KV_RDB_TYPE_LIST_QUICKLIST_2 &&
            (rc = kv_rdb_read_len(r, &container, NULL)))
            return rc;
        if (container == KV_RDB_QL_PLAIN) {
            struct kv_str *s;
            if ((rc = kv_rdb_read_string(r, &s)))
                return rc;
            add_list(b, (const unsigned char *)s->data, s->len);
            kv_str_free(s);
        } else if (container != KV_RDB_QL_PACKED) {
            return kv_rdb_fail(r, -EINVAL, "unknown quicklist container %llu at offset %llu",
                               (unsigned long long)container, (unsigned long long)at);
        } else if (type == KV_RDB_TYPE_LIST_QUICKLIST) {
            rc = read_packed(b, kv_rdb_ziplist_walk, add_list, "quicklist ziplist");
        } else {
            rc = read_packed(b, kv_rdb_listpack_walk, add_list, "quicklist listpack");
        }
    }
    return rc;
}

int kv_rdb_read_object(struct kv_rdb_reader *r, int type, uint64_t type_at, struct kv_obj **out)
{
    *out = NULL;
    if (type == KV_RDB_TYPE_STRING) {
        struct kv_str *s;
        int rc = kv_rdb_read_string(r, &s);
        if (rc)
            return rc;
        int64_t v;
        /* as kv_obj_new_string encodes it */
        if (s->len <= 20 && kv_parse_int64(s->data, s->len, &v)) {
            *out = kv_obj_new_int(v);
            kv_str_free(s);
        } else {
            *out = kv_obj_new(KV_STRING, KV_ENC_RAW, s);
        }
        return 0;
    }
    struct build b = { .r = r, .o = new_value(type) };
    if (!b.o) {
        bool known = type == KV_RDB_TYPE_MODULE || type == KV_RDB_TYPE_MODULE_2 ||
                     type == KV_RDB_TYPE_STREAM_LISTPACKS ||
                     type == KV_RDB_TYPE_STREAM_LISTPACKS_2;
        return kv_rdb_fail(r, -EINVAL, "%s RDB type %d at offset %llu",
                           known ? "unsupported (module or stream)" : "unknown", type,
                           (unsigned long long)type_at);
    }
    int rc;
    switch (type) {
    case KV_RDB_TYPE_LIST_ZIPLIST:
        rc = read_packed(&b, kv_rdb_ziplist_walk, add_list, "list ziplist");
        break;
    case KV_RDB_TYPE_LIST_QUICKLIST:
    case KV_RDB_TYPE_LIST_QUICKLIST_2:
        rc = read_quicklist(&b, type);
        break;
    case KV_RDB_TYPE_SET_INTSET:
        rc = read_packed(&b, kv_rdb_intset_walk, add_set, "intset");
        break;
    case KV_RDB_TYPE_HASH_ZIPMAP:
        rc = read_packed(&b, kv_rdb_zipmap_walk, add_pair, "zipmap");
        break;
    case KV_RDB_TYPE_HASH_ZIPLIST:
    case KV_RDB_TYPE_ZSET_ZIPLIST:
        rc = read_packed(&b, kv_rdb_ziplist_walk, add_pair, "ziplist");
        break;
    case KV_RDB_TYPE_HASH_LISTPACK:
    case KV_RDB_TYPE_ZSET_LISTPACK:
        rc = read_packed(&b, kv_rdb_listpack_walk, add_pair, "listpack");
        break;
    default:
        rc = read_plain(&b, type);
    }
    if (b.pending)
        kv_str_free(b.pending);
    if (rc || !obj_len(b.o)) {
        kv_obj_release(b.o);
        return rc;
    }
    *out = b.o;
    return 0;
}
