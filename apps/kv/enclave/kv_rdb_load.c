/* The RDB loader (kv_persist.h): Redis's rdbLoad for versions 1 to 10 into
 * the running store, all or nothing. Keys go straight into each database's
 * dicts (no client, no WATCH or dirty bookkeeping: nothing is watching a
 * store that is being loaded). */
#include <errno.h>
#include <string.h>

#include "kv_rdb.h"
#include "kv_server.h"

struct load {
    struct kv_rdb_reader r;
    int version;
    int db;
    int64_t now_ms;
    uint64_t keys, skipped_expired;
};

static int load_key(struct load *L, int type, int64_t expire_ms)
{
    struct kv_rdb_reader *r = &L->r;
    uint64_t at = r->offset - 1;
    struct kv_str *key;
    struct kv_obj *o;
    int rc = kv_rdb_read_string(r, &key);
    if (rc)
        return rc;
    if ((rc = kv_rdb_read_object(r, type, at, &o))) {
        kv_str_free(key);
        return rc;
    }
    /* empty values are skipped, as are keys already expired (a master's load) */
    if (!o || (expire_ms != -1 && expire_ms < L->now_ms)) {
        if (o) {
            kv_obj_release(o);
            L->skipped_expired++;
        }
        kv_str_free(key);
        return 0;
    }
    struct kv_db *db = kv_db_at(L->db);
    struct kv_dict_entry *e = kv_dict_add_owned(db->keys, key, NULL);
    if (!e) {
        rc = kv_rdb_fail(r, -EINVAL, "duplicate key '%.*s' in db %d at offset %llu",
                         key->len > 64 ? 64 : (int)key->len, key->data, L->db,
                         (unsigned long long)at);
        kv_str_free(key);
        kv_obj_release(o);
        return rc;
    }
    e->v.ptr = o;
    if (expire_ms != -1)
        kv_dict_add(db->expires, key->data, key->len, NULL)->v.i = expire_ms;
    L->keys++;
    return 0;
}

static int read_le(struct load *L, int bytes, uint64_t *out)
{
    unsigned char b[8];
    int rc = kv_rdb_read(&L->r, b, (size_t)bytes);
    if (rc)
        return rc;
    *out = 0;
    for (int i = bytes - 1; i >= 0; i--)
        *out = *out << 8 | b[i];
    return 0;
}

static int load_header(struct load *L)
{
    char magic[10];
    int rc = kv_rdb_read(&L->r, magic, 9);
    if (rc)
        return rc;
    magic[9] = '\0';
    if (memcmp(magic, "REDIS", 5) != 0)
        return kv_rdb_fail(&L->r, -EINVAL, "wrong signature (not an RDB file)");
    L->version = 0;
    for (int i = 5; i < 9; i++) {
        if (magic[i] < '0' || magic[i] > '9')
            return kv_rdb_fail(&L->r, -EINVAL, "bad RDB version '%s'", magic + 5);
        L->version = L->version * 10 + magic[i] - '0';
    }
    if (L->version < 1 || L->version > KV_RDB_VERSION)
        return kv_rdb_fail(&L->r, -EINVAL, "can't handle RDB format version %d", L->version);
    return 0;
}

/* From the opcodes after the header through EOF and the checksum. */
static int load_body(struct load *L)
{
    struct kv_rdb_reader *r = &L->r;
    int64_t expire_ms = -1;
    for (;;) {
        uint64_t at = r->offset, v, v2;
        unsigned char op;
        int rc = kv_rdb_read_byte(r, &op);
        if (rc)
            return rc;
        switch (op) {
        case KV_RDB_OP_EXPIRETIME_MS:
            if ((rc = read_le(L, 8, &v)))
                return rc;
            expire_ms = (int64_t)v;
            continue;
        case KV_RDB_OP_EXPIRETIME:
            if ((rc = read_le(L, 4, &v)))
                return rc;
            expire_ms = (int64_t)(int32_t)(uint32_t)v * 1000;
            continue;
        case KV_RDB_OP_FREQ: {
            unsigned char freq;
            if ((rc = kv_rdb_read_byte(r, &freq)))
                return rc;
            continue;
        }
        case KV_RDB_OP_IDLE:
            if ((rc = kv_rdb_read_len(r, &v, NULL)))
                return rc;
            continue;
        case KV_RDB_OP_SELECTDB:
            if ((rc = kv_rdb_read_len(r, &v, NULL)))
                return rc;
            if (v >= (uint64_t)kv_server()->dbnum)
                return kv_rdb_fail(r, -EINVAL,
                                   "DB index %llu out of range (the store has %d databases) "
                                   "at offset %llu",
                                   (unsigned long long)v, kv_server()->dbnum,
                                   (unsigned long long)at);
            L->db = (int)v;
            continue;
        case KV_RDB_OP_RESIZEDB:   /* a hint: the dicts grow as keys come */
            if ((rc = kv_rdb_read_len(r, &v, NULL)) || (rc = kv_rdb_read_len(r, &v2, NULL)))
                return rc;
            continue;
        case KV_RDB_OP_AUX: {      /* redis-ver, ctime, ...: nothing to keep */
            struct kv_str *k, *val;
            if ((rc = kv_rdb_read_string(r, &k)))
                return rc;
            rc = kv_rdb_read_string(r, &val);
            kv_str_free(k);
            if (rc)
                return rc;
            kv_str_free(val);
            continue;
        }
        case KV_RDB_OP_MODULE_AUX:
            return kv_rdb_fail(r, -EINVAL, "module data (MODULE_AUX) at offset %llu: unsupported",
                               (unsigned long long)at);
        case KV_RDB_OP_FUNCTION:
        case KV_RDB_OP_FUNCTION2:
            return kv_rdb_fail(r, -EINVAL, "a function library at offset %llu: unsupported",
                               (unsigned long long)at);
        case KV_RDB_OP_EOF:
            break;
        default:
            if ((rc = load_key(L, op, expire_ms)))
                return rc;
            expire_ms = -1;
            continue;
        }
        break;
    }
    if (L->version < 5)
        return 0;   /* no checksum before RDB 5 */
    uint64_t want = r->crc, got;
    int rc = read_le(L, 8, &got);
    if (rc)
        return rc;
    if (got && got != want)
        return kv_rdb_fail(r, -EINVAL,
                           "RDB checksum mismatch (file 0x%016llx, computed 0x%016llx)",
                           (unsigned long long)got, (unsigned long long)want);
    return 0;
}

int kv_rdb_load(struct kv_source *in, char *err, size_t err_len)
{
    struct load L = { .r = { .in = in, .err = err, .err_len = err_len } };
    if (err && err_len)
        err[0] = '\0';
    if (kv_keys_total())
        return kv_rdb_fail(&L.r, -EBUSY, "the store is not empty");
    L.now_ms = kv_now_ms();
    int rc = load_header(&L);
    if (!rc)
        rc = load_body(&L);
    if (rc)
        kv_db_empty(NULL, -1);
    return rc;
}
