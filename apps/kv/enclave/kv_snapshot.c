/* A point-in-time view of the keyspace for SAVE and BGSAVE (kv_persist.h).
 * The view is the databases' dicts; with freeze, this process keeps them as
 * they were (kv_dict.c's frozen dicts, kv_obj.c's object copy-on-write)
 * until kv_snapshot_end, so a child attached to the same enclave can read
 * them in place while the store keeps serving. The granularity is the
 * object: the first write to a value the snapshot holds copies that value
 * (a whole list, hash, set or zset; a string), and a keyspace change adds a
 * dict entry instead of changing one. */
#include "kv_persist.h"
#include "kv_server.h"

struct kv_snapshot *kv_snapshot_view(bool live)
{
    struct kv_server *s = kv_server();
    struct kv_snapshot *snap =
        kv_calloc(sizeof *snap + (size_t)s->dbnum * sizeof(struct kv_snapshot_db));
    snap->live = live;
    snap->hash_seed[0] = s->hash_seed[0];
    snap->hash_seed[1] = s->hash_seed[1];
    snap->start_ms = s->now_ms;
    snap->used_memory = s->mem.used;
    snap->dbnum = s->dbnum;
    for (int i = 0; i < s->dbnum; i++) {
        struct kv_db *db = &s->db[i];
        snap->db[i] = (struct kv_snapshot_db){
            .keys = db->keys, .expires = db->expires,
            .keys_count = kv_dict_size(db->keys), .expires_count = kv_dict_size(db->expires),
        };
    }
    return snap;
}

struct kv_snapshot *kv_snapshot_begin(bool freeze)
{
    struct kv_server *s = kv_server();
    struct kv_snapshot *snap = kv_snapshot_view(false);
    for (int i = 0; freeze && i < s->dbnum; i++) {
        kv_dict_freeze(s->db[i].keys);
        kv_dict_freeze(s->db[i].expires);
    }
    /* everything made so far belongs to it; later objects are newer */
    s->snapshot_epoch = s->epoch++;
    s->snapshot_running = freeze;
    s->snapshot = snap;
    s->cow_bytes = 0;
    return snap;
}

bool kv_snapshot_retire(struct kv_dict *d)
{
    struct kv_server *s = kv_server();
    if (!kv_dict_is_frozen(d))
        return false;
    if (s->retired_count == s->retired_cap) {
        s->retired_cap = s->retired_cap ? s->retired_cap * 2 : 16;
        s->retired = kv_realloc(s->retired, s->retired_cap * sizeof *s->retired);
    }
    s->retired[s->retired_count++] = d;
    return true;
}

void kv_snapshot_release(void)
{
    struct kv_server *s = kv_server();
    struct kv_snapshot *snap = s->snapshot;
    if (!snap)
        return;
    /* unfrozen (a native fork, SAVE): its dicts were never frozen, and a
     * FLUSHALL since may have freed them */
    bool frozen = s->snapshot_running;
    s->snapshot_running = false;
    for (int i = 0; frozen && i < snap->dbnum; i++) {
        kv_dict_thaw((struct kv_dict *)snap->db[i].keys);
        kv_dict_thaw((struct kv_dict *)snap->db[i].expires);
    }
    snap->dbnum = 0;   /* its dicts are live again (and may go): nothing to see */
    for (size_t i = 0; i < s->retired_count; i++)
        kv_dict_free(s->retired[i]);   /* thaws first; its objects are old: freed now */
    kv_free(s->retired);
    s->retired = NULL;
    s->retired_count = s->retired_cap = 0;
    for (size_t i = 0; i < s->deferred_count; i++)
        kv_obj_free_now(s->deferred[i]);
    kv_free(s->deferred);
    s->deferred = NULL;
    s->deferred_count = s->deferred_cap = 0;
}

void kv_snapshot_end(void)
{
    struct kv_server *s = kv_server();
    if (!s->snapshot)
        return;
    kv_snapshot_release();
    kv_free(s->snapshot);
    s->snapshot = NULL;
}
