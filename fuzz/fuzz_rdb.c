/* libFuzzer target: the RDB loader (kv_rdb_load) on hostile bytes, natively,
 * through a memory source. It must never crash, leak, loop or allocate
 * without bound; a failed load must leave the store empty; a file that loads
 * must save and load again (the writer takes whatever the loader builds). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv_entry.h"
#include "kv_persist.h"
#include "kv_server.h"

struct mem {
    const uint8_t *p;
    size_t len, pos;
};

static int mem_read(void *arg, void *p, size_t n)
{
    struct mem *m = arg;
    if (n > m->len - m->pos)
        return -ENODATA;
    memcpy(p, m->p + m->pos, n);
    m->pos += n;
    return 0;
}

struct out {
    uint8_t *p;
    size_t len, cap;
};

static int out_write(void *arg, const void *p, size_t n)
{
    struct out *o = arg;
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2;
        o->p = realloc(o->p, o->cap);
    }
    memcpy(o->p + o->len, p, n);
    o->len += n;
    return 0;
}

static int load(const uint8_t *p, size_t len)
{
    char err[256];
    struct mem m = { p, len, 0 };
    struct kv_source src = { mem_read, &m };
    return kv_rdb_load(&src, err, sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kv_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.databases = 16;
    cfg.hz = 10;
    cfg.proto_max_bulk_len = 1 << 20;
    cfg.client_query_buffer_limit = 1 << 20;
    size_t len;
    if (kv_start(&cfg, sizeof cfg, NULL, 0, &len) < 0)
        return 0;
    if (load(data, size) != 0) {
        if (kv_keys_total() != 0)
            abort();   /* all or nothing */
        kv_stop();
        return 0;
    }
    struct kv_server *s = kv_server();
    struct kv_snapshot *snap = calloc(1, sizeof *snap + (size_t)s->dbnum * sizeof snap->db[0]);
    snap->dbnum = s->dbnum;
    memcpy(snap->hash_seed, s->hash_seed, sizeof snap->hash_seed);
    for (int i = 0; i < s->dbnum; i++) {
        snap->db[i].keys = s->db[i].keys;
        snap->db[i].expires = s->db[i].expires;
        snap->db[i].keys_count = kv_dict_size(s->db[i].keys);
        snap->db[i].expires_count = kv_dict_size(s->db[i].expires);
    }
    struct out o = { 0 };
    struct kv_sink sink = { out_write, &o };
    size_t keys = kv_keys_total();
    if (kv_rdb_save(snap, &sink) != 0)
        abort();
    free(snap);
    kv_db_empty(NULL, -1);
    if (load(o.p, o.len) != 0 || kv_keys_total() != keys)
        abort();   /* what loaded must save and load back */
    free(o.p);
    kv_stop();
    return 0;
}
