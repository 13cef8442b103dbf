/* The keyspace: databases of key -> object, expiry by key, lazy expiry on
 * access, and the copy-on-write lookup for writers (kv.h). */
#include <string.h>

#include "kv_server.h"

static void kv_db_value_free(struct kv_dict_entry *e) { kv_obj_release(e->v.ptr); }

static const struct kv_dict_type kv_db_keys_type = { kv_db_value_free };
static const struct kv_dict_type kv_db_expires_type = { NULL };

void kv_db_init(struct kv_server *s)
{
    s->dbnum = (int)s->config.databases;
    s->db = kv_calloc((size_t)s->dbnum * sizeof *s->db);
    s->watched = kv_calloc((size_t)s->dbnum * sizeof *s->watched);
    for (int i = 0; i < s->dbnum; i++) {
        s->db[i].keys = kv_dict_new(&kv_db_keys_type);
        s->db[i].expires = kv_dict_new(&kv_db_expires_type);
        s->db[i].index = i;
    }
}

void kv_db_free_all(struct kv_server *s)
{
    for (int i = 0; i < s->dbnum; i++) {
        kv_dict_free(s->db[i].keys);
        kv_dict_free(s->db[i].expires);
        kv_dict_free(s->watched[i]);
    }
    kv_free(s->db);
    kv_free(s->watched);
    s->db = NULL;
    s->watched = NULL;
}

struct kv_db *kv_db_at(int index) { return &kv_server()->db[index]; }

int64_t kv_now_ms(void) { return kv_server()->now_ms; }

size_t kv_keys_total(void)
{
    const struct kv_server *s = kv_server();
    size_t n = 0;
    for (int i = 0; i < s->dbnum; i++)
        n += kv_dict_size(s->db[i].keys);
    return n;
}

/* Deletes the key of an expired entry of db->expires (the active cycle). */
void kv_db_delete_expired(struct kv_db *db, struct kv_dict_entry *e)
{
    struct kv_server *s = kv_server();
    struct kv_str *key = kv_str_dup(e->key);
    kv_dict_delete(db->expires, key->data, key->len);
    kv_dict_delete(db->keys, key->data, key->len);
    kv_watch_touch(db->index, key);
    s->stat_expired++;
    s->dirty++;
    kv_str_free(key);
}

/* Lazy expiry: true when key was there but expired (and is now deleted). */
bool kv_db_expire_if_needed(struct kv_db *db, struct kv_client *c, const struct kv_str *key)
{
    (void)c;
    if (kv_dict_size(db->expires) == 0)
        return false;
    struct kv_dict_entry *e = kv_dict_find(db->expires, key->data, key->len);
    if (!e || e->v.i > kv_now_ms())
        return false;
    kv_db_delete_expired(db, e);
    return true;
}

static struct kv_obj *kv_db_lookup(struct kv_client *c, const struct kv_str *key)
{
    kv_db_expire_if_needed(c->db, c, key);
    struct kv_dict_entry *e = kv_dict_find(c->db->keys, key->data, key->len);
    return e ? e->v.ptr : NULL;
}

struct kv_obj *kv_db_lookup_read(struct kv_client *c, const struct kv_str *key)
{
    struct kv_obj *o = kv_db_lookup(c, key);
    struct kv_server *s = kv_server();
    if (o)
        s->stat_hits++;
    else
        s->stat_misses++;
    return o;
}

/* e, or the entry that replaces it while a snapshot reads the keyspace
 * (kv_dict_entry_writable); what that costs counts as copy-on-write. */
static struct kv_dict_entry *kv_db_writable(struct kv_dict *d, struct kv_dict_entry *e)
{
    struct kv_server *s = kv_server();
    size_t before = s->mem.used;
    e = kv_dict_entry_writable(d, e);
    s->cow_bytes += s->mem.used - before;
    return e;
}

bool kv_db_exists_for_write(struct kv_client *c, const struct kv_str *key)
{
    kv_db_expire_if_needed(c->db, c, key);
    return kv_dict_find(c->db->keys, key->data, key->len) != NULL;
}

struct kv_obj *kv_db_lookup_write(struct kv_client *c, const struct kv_str *key)
{
    kv_db_expire_if_needed(c->db, c, key);
    struct kv_dict_entry *e = kv_dict_find(c->db->keys, key->data, key->len);
    if (!e)
        return NULL;
    struct kv_obj *o = e->v.ptr;
    if (kv_obj_needs_copy(o)) {
        /* the snapshot keeps the old object; writers get their own copy */
        struct kv_obj *copy = kv_obj_copy(o);
        e = kv_db_writable(c->db->keys, e);
        e->v.ptr = copy;
        kv_obj_release(o);
        o = copy;
    }
    return o;
}

static struct kv_obj *kv_db_check_type(struct kv_client *c, struct kv_obj *o, enum kv_type type,
                                       bool *replied)
{
    if (replied)
        *replied = false;
    if (o && o->type != type) {
        kv_reply_wrongtype(c);
        if (replied)
            *replied = true;
        return NULL;
    }
    return o;
}

struct kv_obj *kv_db_lookup_read_type(struct kv_client *c, const struct kv_str *key,
                                      enum kv_type type, bool *replied)
{
    return kv_db_check_type(c, kv_db_lookup_read(c, key), type, replied);
}

struct kv_obj *kv_db_lookup_write_type(struct kv_client *c, const struct kv_str *key,
                                       enum kv_type type, bool *replied)
{
    /* check the type before a copy is made */
    kv_db_expire_if_needed(c->db, c, key);
    struct kv_dict_entry *e = kv_dict_find(c->db->keys, key->data, key->len);
    if (e && ((struct kv_obj *)e->v.ptr)->type != type)
        return kv_db_check_type(c, e->v.ptr, type, replied);
    if (replied)
        *replied = false;
    return e ? kv_db_lookup_write(c, key) : NULL;
}

void kv_db_add(struct kv_client *c, const struct kv_str *key, struct kv_obj *o)
{
    struct kv_dict_entry *e = kv_dict_add(c->db->keys, key->data, key->len, NULL);
    if (!e)
        __builtin_trap();   /* the caller checked the key is missing */
    e->v.ptr = o;
    kv_key_modified(c, key);
}

void kv_db_set(struct kv_client *c, const struct kv_str *key, struct kv_obj *o, bool keep_ttl)
{
    struct kv_dict_entry *existing = NULL;
    kv_db_expire_if_needed(c->db, c, key);
    struct kv_dict_entry *e = kv_dict_add(c->db->keys, key->data, key->len, &existing);
    if (e) {
        e->v.ptr = o;
    } else {
        existing = kv_db_writable(c->db->keys, existing);
        struct kv_obj *old = existing->v.ptr;
        existing->v.ptr = o;
        kv_obj_release(old);
        if (!keep_ttl)
            kv_dict_delete(c->db->expires, key->data, key->len);
    }
    kv_key_modified(c, key);
}

struct kv_obj *kv_db_take(struct kv_client *c, const struct kv_str *key)
{
    struct kv_dict_entry *e = kv_dict_find(c->db->keys, key->data, key->len);
    if (!e)
        return NULL;
    e = kv_db_writable(c->db->keys, e);
    struct kv_obj *o = e->v.ptr;
    e->v.ptr = NULL;   /* the entry goes without its value */
    kv_dict_delete(c->db->keys, key->data, key->len);
    kv_dict_delete(c->db->expires, key->data, key->len);
    kv_key_modified(c, key);
    return o;
}

bool kv_db_delete(struct kv_client *c, const struct kv_str *key)
{
    if (kv_dict_size(c->db->expires))
        kv_dict_delete(c->db->expires, key->data, key->len);
    if (!kv_dict_delete(c->db->keys, key->data, key->len))
        return false;
    kv_key_modified(c, key);
    return true;
}

void kv_key_modified(struct kv_client *c, const struct kv_str *key)
{
    struct kv_server *s = kv_server();
    s->dirty++;
    if (s->watching_clients)
        kv_watch_touch(c->db->index, key);
}

int64_t kv_db_get_expire(struct kv_client *c, const struct kv_str *key)
{
    if (kv_dict_size(c->db->expires) == 0)
        return -1;
    struct kv_dict_entry *e = kv_dict_find(c->db->expires, key->data, key->len);
    return e ? e->v.i : -1;
}

void kv_db_set_expire(struct kv_client *c, const struct kv_str *key, int64_t when_ms)
{
    struct kv_dict_entry *existing = NULL;
    struct kv_dict_entry *e = kv_dict_add(c->db->expires, key->data, key->len, &existing);
    if (!e)
        e = kv_db_writable(c->db->expires, existing);
    e->v.i = when_ms;
}

/* FLUSHDB / FLUSHALL: index -1 empties every db. */
uint64_t kv_db_empty(struct kv_client *c, int index)
{
    (void)c;
    struct kv_server *s = kv_server();
    uint64_t removed = 0;
    for (int i = 0; i < s->dbnum; i++) {
        if (index != -1 && i != index)
            continue;
        struct kv_db *db = &s->db[i];
        removed += kv_dict_size(db->keys);
        if (kv_dict_size(db->keys))
            kv_watch_touch_db(i);
        if (!kv_snapshot_retire(db->keys))
            kv_dict_free(db->keys);
        if (!kv_snapshot_retire(db->expires))
            kv_dict_free(db->expires);
        db->keys = kv_dict_new(&kv_db_keys_type);
        db->expires = kv_dict_new(&kv_db_expires_type);
    }
    s->dirty += removed;
    return removed;
}
