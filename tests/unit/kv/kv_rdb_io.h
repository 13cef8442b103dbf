/* Sinks, sources and a snapshot of the native store for the RDB tests and
 * kv_rdb_tool: memory and FILE streams (kv_persist.h). */
#ifndef KV_RDB_IO_H
#define KV_RDB_IO_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_persist.h"
#include "kv_server.h"

struct kvr_mem {
    unsigned char *p;
    size_t len, cap, pos;
};

static inline int kvr_mem_write(void *arg, const void *p, size_t n)
{
    struct kvr_mem *m = arg;
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->len, p, n);
    m->len += n;
    return 0;
}

static inline int kvr_mem_read(void *arg, void *p, size_t n)
{
    struct kvr_mem *m = arg;
    if (n > m->len - m->pos)
        return -ENODATA;
    memcpy(p, m->p + m->pos, n);
    m->pos += n;
    return 0;
}

static inline int kvr_file_write(void *arg, const void *p, size_t n)
{
    return fwrite(p, 1, n, arg) == n ? 0 : -EIO;
}

static inline int kvr_file_read(void *arg, void *p, size_t n)
{
    size_t got = fread(p, 1, n, arg);
    if (got == n)
        return 0;
    return ferror((FILE *)arg) ? -EIO : -ENODATA;
}

/* The running store's databases as a snapshot (free() it). */
static inline struct kv_snapshot *kvr_snapshot(int64_t now_ms)
{
    struct kv_server *s = kv_server();
    struct kv_snapshot *snap =
        calloc(1, sizeof *snap + (size_t)s->dbnum * sizeof(struct kv_snapshot_db));
    snap->start_ms = now_ms;
    memcpy(snap->hash_seed, s->hash_seed, sizeof snap->hash_seed);
    snap->used_memory = kv_used_memory();
    snap->dbnum = s->dbnum;
    for (int i = 0; i < s->dbnum; i++) {
        snap->db[i].keys = kv_db_at(i)->keys;
        snap->db[i].expires = kv_db_at(i)->expires;
        snap->db[i].keys_count = kv_dict_size(kv_db_at(i)->keys);
        snap->db[i].expires_count = kv_dict_size(kv_db_at(i)->expires);
    }
    return snap;
}

#endif
