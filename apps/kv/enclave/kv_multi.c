/* MULTI/EXEC/DISCARD/WATCH/UNWATCH (multi.c): commands queued with their
 * arguments, EXEC refused with EXECABORT when one was refused while queueing,
 * a null array when a WATCHed key changed. Watched keys live per db in
 * key -> watchers dicts, touched by every change (kv_key_modified). */
#include <string.h>

#include "kv_server.h"

struct kv_watchers {
    int count, cap;
    struct kv_client **clients;
};

static void kv_watchers_free(struct kv_dict_entry *e)
{
    struct kv_watchers *w = e->v.ptr;
    kv_free(w->clients);
    kv_free(w);
}

static const struct kv_dict_type kv_watched_type = { kv_watchers_free };

void kv_multi_queue(struct kv_client *c, const struct kv_command *cmd)
{
    struct kv_client_core *cc = c->core;
    if (c->flags & KV_CLIENT_DIRTY_EXEC)
        return;   /* the EXEC will fail anyway: keep no more memory */
    if (cc->queued_count == cc->queued_cap) {
        cc->queued_cap = cc->queued_cap ? cc->queued_cap * 2 : 4;
        cc->queued = kv_realloc(cc->queued, (size_t)cc->queued_cap * sizeof *cc->queued);
    }
    struct kv_queued *q = &cc->queued[cc->queued_count++];
    q->cmd = cmd;
    q->argc = c->argc;
    q->argv = kv_alloc((size_t)c->argc * sizeof *q->argv);
    memcpy(q->argv, c->argv, (size_t)c->argc * sizeof *q->argv);
    c->argc = 0;   /* the queue owns the arguments now */
    cc->queued_flags |= cmd->flags;
}

void kv_multi_discard(struct kv_client *c)
{
    struct kv_client_core *cc = c->core;
    for (int i = 0; i < cc->queued_count; i++)
        kv_argv_free(cc->queued[i].argv, cc->queued[i].argc);
    kv_free(cc->queued);
    cc->queued = NULL;
    cc->queued_count = cc->queued_cap = 0;
    cc->queued_flags = 0;
    c->flags &= ~(KV_CLIENT_MULTI | KV_CLIENT_DIRTY_CAS | KV_CLIENT_DIRTY_EXEC);
}

static bool kv_key_expired(int db, const struct kv_str *key);

static void kv_watch_key(struct kv_client *c, const struct kv_str *key)
{
    struct kv_server *s = kv_server();
    struct kv_client_core *cc = c->core;
    for (int i = 0; i < cc->watched_count; i++)
        if (cc->watched[i].db == c->db_index && kv_str_eq(cc->watched[i].key, key))
            return;
    if (!s->watched[c->db_index])
        s->watched[c->db_index] = kv_dict_new(&kv_watched_type);
    struct kv_dict_entry *existing = NULL;
    struct kv_dict_entry *e = kv_dict_add(s->watched[c->db_index], key->data, key->len, &existing);
    if (e)
        e->v.ptr = kv_calloc(sizeof(struct kv_watchers));
    struct kv_watchers *w = (e ? e : existing)->v.ptr;
    if (w->count == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 2;
        w->clients = kv_realloc(w->clients, (size_t)w->cap * sizeof *w->clients);
    }
    w->clients[w->count++] = c;
    if (cc->watched_count == cc->watched_cap) {
        cc->watched_cap = cc->watched_cap ? cc->watched_cap * 2 : 4;
        cc->watched = kv_realloc(cc->watched, (size_t)cc->watched_cap * sizeof *cc->watched);
    }
    if (cc->watched_count == 0)
        s->watching_clients++;
    cc->watched[cc->watched_count].db = c->db_index;
    cc->watched[cc->watched_count].expired = kv_key_expired(c->db_index, key);
    cc->watched[cc->watched_count].key = kv_str_dup(key);
    cc->watched_count++;
}

/* In the keyspace but past its expiry (not deleted yet). */
static bool kv_key_expired(int db, const struct kv_str *key)
{
    struct kv_db *d = kv_db_at(db);
    if (!kv_dict_size(d->expires))
        return false;
    struct kv_dict_entry *e = kv_dict_find(d->expires, key->data, key->len);
    return e && e->v.i <= kv_now_ms();
}

/* Redis 7.0: a watched key that expired since WATCH fails the EXEC. */
static bool kv_watched_expired(struct kv_client *c)
{
    struct kv_client_core *cc = c->core;
    for (int i = 0; i < cc->watched_count; i++)
        if (!cc->watched[i].expired && kv_key_expired(cc->watched[i].db, cc->watched[i].key))
            return true;
    return false;
}

void kv_unwatch_all(struct kv_client *c)
{
    struct kv_server *s = kv_server();
    struct kv_client_core *cc = c->core;
    if (!cc->watched_count)
        return;
    for (int i = 0; i < cc->watched_count; i++) {
        struct kv_watched *wk = &cc->watched[i];
        struct kv_dict *d = s->watched[wk->db];
        struct kv_dict_entry *e = d ? kv_dict_find(d, wk->key->data, wk->key->len) : NULL;
        if (e) {
            struct kv_watchers *w = e->v.ptr;
            for (int j = 0; j < w->count; j++)
                if (w->clients[j] == c) {
                    w->clients[j] = w->clients[--w->count];
                    break;
                }
            if (w->count == 0)
                kv_dict_delete(d, wk->key->data, wk->key->len);
        }
        kv_str_free(wk->key);
    }
    cc->watched_count = 0;
    s->watching_clients--;
}

void kv_watch_touch(int db, const struct kv_str *key)
{
    struct kv_server *s = kv_server();
    if (!s->watching_clients || !s->watched[db])
        return;
    struct kv_dict_entry *e = kv_dict_find(s->watched[db], key->data, key->len);
    if (!e)
        return;
    struct kv_watchers *w = e->v.ptr;
    for (int i = 0; i < w->count; i++)
        w->clients[i]->flags |= KV_CLIENT_DIRTY_CAS;
}

/* FLUSHDB/FLUSHALL: every watched key of the db that exists changes. */
void kv_watch_touch_db(int db)
{
    struct kv_server *s = kv_server();
    if (!s->watching_clients)
        return;
    for (int i = 0; i < s->dbnum; i++) {
        if ((db != -1 && i != db) || !s->watched[i])
            continue;
        struct kv_dict_iter it;
        kv_dict_iter_init(&it, s->watched[i]);
        for (struct kv_dict_entry *e; (e = kv_dict_iter_next(&it));) {
            if (!kv_dict_find(s->db[i].keys, e->key->data, e->key->len))
                continue;
            struct kv_watchers *w = e->v.ptr;
            for (int j = 0; j < w->count; j++)
                w->clients[j]->flags |= KV_CLIENT_DIRTY_CAS;
        }
        kv_dict_iter_done(&it);
    }
}

static void kv_cmd_multi(struct kv_client *c)
{
    if (c->flags & KV_CLIENT_MULTI) {
        kv_reply_error(c, "MULTI calls can not be nested");
        return;
    }
    c->flags |= KV_CLIENT_MULTI;
    kv_reply_ok(c);
}

static void kv_cmd_discard(struct kv_client *c)
{
    if (!(c->flags & KV_CLIENT_MULTI)) {
        kv_reply_error(c, "DISCARD without MULTI");
        return;
    }
    kv_multi_discard(c);
    kv_unwatch_all(c);
    kv_reply_ok(c);
}

static void kv_cmd_exec(struct kv_client *c)
{
    struct kv_client_core *cc = c->core;
    if (!(c->flags & KV_CLIENT_MULTI)) {
        kv_reply_error(c, "EXEC without MULTI");
        return;
    }
    if (c->flags & KV_CLIENT_DIRTY_EXEC) {
        kv_reply_error(c, "-EXECABORT Transaction discarded because of previous errors.");
        kv_multi_discard(c);
        kv_unwatch_all(c);
        return;
    }
    if ((c->flags & KV_CLIENT_DIRTY_CAS) || kv_watched_expired(c)) {
        kv_reply_null_array(c);
        kv_multi_discard(c);
        kv_unwatch_all(c);
        return;
    }
    /* WATCHed keys must not change under the transaction's own feet */
    kv_unwatch_all(c);
    struct kv_queued *queued = cc->queued;
    int count = cc->queued_count;
    cc->queued = NULL;
    cc->queued_count = cc->queued_cap = 0;
    c->flags &= ~KV_CLIENT_MULTI;
    int argc = c->argc;
    struct kv_str **argv = c->argv;
    int argv_cap = cc->argv_cap;
    kv_reply_array(c, count);
    for (int i = 0; i < count; i++) {
        c->argc = queued[i].argc;
        c->argv = queued[i].argv;
        cc->argv_cap = queued[i].argc;
        /* maxmemory is checked again for each denyoom command, as Redis 7.0 does */
        if ((queued[i].cmd->flags & KV_CMD_DENYOOM) && kv_over_maxmemory())
            kv_reply_error(c, "-OOM command not allowed when used memory > 'maxmemory'.");
        else
            kv_command_call(c, queued[i].cmd);
        kv_argv_free(c->argv, c->argc);
    }
    kv_free(queued);
    c->argc = argc;
    c->argv = argv;
    cc->argv_cap = argv_cap;
    kv_multi_discard(c);
}

static void kv_cmd_watch(struct kv_client *c)
{
    if (c->flags & KV_CLIENT_MULTI) {
        kv_reply_error(c, "WATCH inside MULTI is not allowed");
        return;
    }
    /* a watched key already changed: no need to watch more (Redis 7.0) */
    if (!(c->flags & KV_CLIENT_DIRTY_CAS))
        for (int i = 1; i < c->argc; i++)
            kv_watch_key(c, c->argv[i]);
    kv_reply_ok(c);
}

static void kv_cmd_unwatch(struct kv_client *c)
{
    kv_unwatch_all(c);
    c->flags &= ~KV_CLIENT_DIRTY_CAS;
    kv_reply_ok(c);
}

const struct kv_command kv_transaction_commands[] = {
    { "multi", kv_cmd_multi, 1, KV_CMD_NOMULTI | KV_CMD_FAST, 0, 0, 0, "transactions",
      "Starts a transaction." },
    { "exec", kv_cmd_exec, 1, KV_CMD_NOMULTI, 0, 0, 0, "transactions",
      "Executes all commands in a transaction." },
    { "discard", kv_cmd_discard, 1, KV_CMD_NOMULTI | KV_CMD_FAST, 0, 0, 0, "transactions",
      "Discards a transaction." },
    { "watch", kv_cmd_watch, -2, KV_CMD_NOMULTI | KV_CMD_FAST, 1, -1, 1, "transactions",
      "Monitors changes to keys to determine the execution of a transaction." },
    { "unwatch", kv_cmd_unwatch, 1, KV_CMD_FAST, 0, 0, 0, "transactions",
      "Forgets about watched keys of a transaction." },
    { .name = NULL },
};
