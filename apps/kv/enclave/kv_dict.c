/* Chained hash table with incremental rehash, as Redis's dict.c: tables of
 * power-of-two sizes, a second table while growing or shrinking, and a rehash
 * step moving one bucket (visiting at most 10 empty ones) per add and more in
 * the cron. Unlike dict.c, lookups never rehash: a read-only path must not
 * change the table (a snapshot may be reading it, kv.h).
 *
 * Frozen dicts (the keyspace's while a snapshot runs, kv_persist.h): a child
 * process walks them in place while this process keeps changing them, so
 * nothing it can reach changes under it. No rehash, no resize; a deleted
 * entry stays linked, tagged DEAD (its value released, which defers a
 * snapshot's object); a new entry is linked at its bucket's head, filled
 * before it is published, tagged BORN (the snapshot skips it); an entry's
 * value is never replaced in place (kv_dict_entry_writable makes a BORN copy
 * and kills the old one). The tags live in the low bits of next; thawing
 * clears them and frees the dead. */
#include <string.h>

#include "kv_persist.h"
#include "kv_server.h"

#define KV_DICT_INITIAL 4
#define KV_ENTRY_BORN 1U        /* added while frozen: not in the snapshot */
#define KV_ENTRY_DEAD 2U        /* deleted while frozen: still in the snapshot */
#define KV_ENTRY_TAGS 3U

struct kv_dict {
    const struct kv_dict_type *type;
    struct kv_dict_entry **table[2];
    uint64_t size[2];          /* buckets: 0 or a power of two */
    uint64_t used[2];
    int64_t rehash_index;      /* -1: not rehashing */
    int pause_rehash;          /* safe iterators running */
    bool frozen;               /* a snapshot reads it: see above */
    struct kv_dict_entry **dead, **born;   /* while frozen: to free / to untag */
    size_t dead_count, dead_cap, born_count, born_cap;
};

static bool kv_dict_rehash_allowed(const struct kv_dict *d) { return !d->frozen; }

static inline struct kv_dict_entry *kv_entry_next(const struct kv_dict_entry *e)
{
    return (struct kv_dict_entry *)((uintptr_t)__atomic_load_n(&e->next, __ATOMIC_RELAXED) &
                                    ~(uintptr_t)KV_ENTRY_TAGS);
}

static inline unsigned kv_entry_tags(const struct kv_dict_entry *e)
{
    return (unsigned)((uintptr_t)__atomic_load_n(&e->next, __ATOMIC_RELAXED) & KV_ENTRY_TAGS);
}

static inline bool kv_entry_dead(const struct kv_dict_entry *e) { return kv_entry_tags(e) & KV_ENTRY_DEAD; }

static void kv_entry_set_next(struct kv_dict_entry *e, struct kv_dict_entry *next, unsigned tags)
{
    __atomic_store_n(&e->next, (struct kv_dict_entry *)((uintptr_t)next | tags), __ATOMIC_RELEASE);
}

static void kv_entry_list_push(struct kv_dict_entry ***list, size_t *count, size_t *cap,
                               struct kv_dict_entry *e)
{
    if (*count == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *list = kv_realloc(*list, *cap * sizeof **list);
    }
    (*list)[(*count)++] = e;
}

struct kv_dict *kv_dict_new(const struct kv_dict_type *type)
{
    struct kv_dict *d = kv_calloc(sizeof *d);
    d->type = type;
    d->rehash_index = -1;
    return d;
}

static bool kv_dict_is_rehashing(const struct kv_dict *d) { return d->rehash_index != -1; }

size_t kv_dict_size(const struct kv_dict *d) { return d->used[0] + d->used[1]; }

size_t kv_dict_memory(const struct kv_dict *d)
{
    return (d->size[0] + d->size[1]) * sizeof(struct kv_dict_entry *) + sizeof *d;
}

static void kv_dict_entry_free(struct kv_dict *d, struct kv_dict_entry *e)
{
    if (d->type && d->type->value_free)
        d->type->value_free(e);
    kv_str_free(e->key);
    kv_free(e);
}

static void kv_dict_clear_table(struct kv_dict *d, int t)
{
    for (uint64_t i = 0; i < d->size[t] && d->used[t]; i++) {
        struct kv_dict_entry *e = d->table[t][i];
        while (e) {
            struct kv_dict_entry *next = kv_entry_next(e);
            kv_dict_entry_free(d, e);
            d->used[t]--;
            e = next;
        }
    }
    kv_free(d->table[t]);
    d->table[t] = NULL;
    d->size[t] = d->used[t] = 0;
}

void kv_dict_free(struct kv_dict *d)
{
    if (!d)
        return;
    kv_dict_thaw(d);
    kv_dict_clear_table(d, 0);
    kv_dict_clear_table(d, 1);
    kv_free(d);
}

static void kv_dict_resize_to(struct kv_dict *d, uint64_t want)
{
    uint64_t size = KV_DICT_INITIAL;
    while (size < want && size < ((uint64_t)1 << 62))
        size <<= 1;
    if (kv_dict_is_rehashing(d) || size == d->size[0])
        return;
    struct kv_dict_entry **table = kv_calloc(size * sizeof *table);
    if (!d->table[0]) {
        d->table[0] = table;
        d->size[0] = size;
        return;
    }
    d->table[1] = table;
    d->size[1] = size;
    d->used[1] = 0;
    d->rehash_index = 0;
}

bool kv_dict_rehash_step(struct kv_dict *d, int steps)
{
    if (!kv_dict_is_rehashing(d) || d->pause_rehash || !kv_dict_rehash_allowed(d))
        return kv_dict_is_rehashing(d);
    int empty_visits = steps * 10;
    while (steps-- && d->used[0]) {
        while (!d->table[0][d->rehash_index]) {
            d->rehash_index++;
            if (--empty_visits == 0)
                return true;
        }
        struct kv_dict_entry *e = d->table[0][d->rehash_index];
        while (e) {
            struct kv_dict_entry *next = e->next;
            uint64_t h = kv_hash(e->key->data, e->key->len) & (d->size[1] - 1);
            e->next = d->table[1][h];
            d->table[1][h] = e;
            d->used[0]--;
            d->used[1]++;
            e = next;
        }
        d->table[0][d->rehash_index] = NULL;
        d->rehash_index++;
    }
    if (d->used[0] == 0) {
        kv_free(d->table[0]);
        d->table[0] = d->table[1];
        d->size[0] = d->size[1];
        d->used[0] = d->used[1];
        d->table[1] = NULL;
        d->size[1] = d->used[1] = 0;
        d->rehash_index = -1;
        return false;
    }
    return true;
}

static void kv_dict_expand_if_needed(struct kv_dict *d)
{
    if (kv_dict_is_rehashing(d))
        return;
    if (d->size[0] == 0) {
        kv_dict_resize_to(d, KV_DICT_INITIAL);
        return;
    }
    if (d->used[0] >= d->size[0] && kv_dict_rehash_allowed(d))
        kv_dict_resize_to(d, d->used[0] + 1);
}

/* Shrink a table that is less than 10% full (Redis's htNeedsResize), from
 * the cron and after deletes of the data types. */
void kv_dict_shrink_if_needed(struct kv_dict *d)
{
    if (kv_dict_is_rehashing(d) || !kv_dict_rehash_allowed(d) || d->size[0] <= KV_DICT_INITIAL)
        return;
    if (d->used[0] * 100 / d->size[0] < 10)
        kv_dict_resize_to(d, d->used[0] ? d->used[0] : 1);
}

struct kv_dict_entry *kv_dict_find(struct kv_dict *d, const void *key, size_t len)
{
    if (kv_dict_size(d) == 0)
        return NULL;
    uint64_t h = kv_hash(key, len);
    for (int t = 0; t <= 1; t++) {
        if (!d->size[t])
            break;
        for (struct kv_dict_entry *e = d->table[t][h & (d->size[t] - 1)]; e; e = kv_entry_next(e))
            if (e->key->len == len && memcmp(e->key->data, key, len) == 0 && !kv_entry_dead(e))
                return e;
        if (!kv_dict_is_rehashing(d))
            break;
    }
    return NULL;
}

/* One hash, one search, then the insert (into the new table while
 * rehashing). owned: the key to keep, else a copy of key is made. */
static struct kv_dict_entry *kv_dict_insert(struct kv_dict *d, const void *key, size_t len,
                                            struct kv_str *owned, struct kv_dict_entry **existing)
{
    if (kv_dict_is_rehashing(d) && !d->pause_rehash)
        kv_dict_rehash_step(d, 1);
    kv_dict_expand_if_needed(d);
    uint64_t h = kv_hash(key, len);
    for (int t = 0; t <= 1; t++) {
        if (!d->size[t])
            break;
        for (struct kv_dict_entry *e = d->table[t][h & (d->size[t] - 1)]; e; e = kv_entry_next(e))
            if (e->key->len == len && memcmp(e->key->data, key, len) == 0 && !kv_entry_dead(e)) {
                if (existing)
                    *existing = e;
                return NULL;
            }
        if (!kv_dict_is_rehashing(d))
            break;
    }
    int t = kv_dict_is_rehashing(d) ? 1 : 0;
    struct kv_dict_entry *e = kv_alloc(sizeof *e);
    e->key = owned ? owned : kv_str_new(key, len);
    e->v.i = 0;
    uint64_t b = h & (d->size[t] - 1);
    kv_entry_set_next(e, d->table[t][b], d->frozen ? KV_ENTRY_BORN : 0);
    if (d->frozen)
        kv_entry_list_push(&d->born, &d->born_count, &d->born_cap, e);
    __atomic_store_n(&d->table[t][b], e, __ATOMIC_RELEASE);   /* published whole */
    d->used[t]++;
    return e;
}

/* When the key is already there (NULL returned) it stays the caller's. */
struct kv_dict_entry *kv_dict_add_owned(struct kv_dict *d, struct kv_str *key,
                                        struct kv_dict_entry **existing)
{
    return kv_dict_insert(d, key->data, key->len, key, existing);
}

struct kv_dict_entry *kv_dict_add(struct kv_dict *d, const void *key, size_t len,
                                  struct kv_dict_entry **existing)
{
    return kv_dict_insert(d, key, len, NULL, existing);
}

/* Unlinks key's live entry, or in a frozen dict tags it DEAD and keeps it
 * for the thaw; NULL when missing. */
static struct kv_dict_entry *kv_dict_unlink(struct kv_dict *d, const void *key, size_t len)
{
    if (kv_dict_size(d) == 0)
        return NULL;
    uint64_t h = kv_hash(key, len);
    for (int t = 0; t <= 1; t++) {
        if (!d->size[t])
            break;
        struct kv_dict_entry **pp = &d->table[t][h & (d->size[t] - 1)];
        for (struct kv_dict_entry *e = *pp; e; pp = &e->next, e = kv_entry_next(e)) {
            if (e->key->len != len || memcmp(e->key->data, key, len) != 0 || kv_entry_dead(e))
                continue;
            if (d->frozen) {
                kv_entry_set_next(e, kv_entry_next(e), kv_entry_tags(e) | KV_ENTRY_DEAD);
                kv_entry_list_push(&d->dead, &d->dead_count, &d->dead_cap, e);
            } else {
                *pp = kv_entry_next(e);
            }
            d->used[t]--;
            return e;
        }
        if (!kv_dict_is_rehashing(d))
            break;
    }
    return NULL;
}

bool kv_dict_delete(struct kv_dict *d, const void *key, size_t len)
{
    struct kv_dict_entry *e = kv_dict_unlink(d, key, len);
    if (!e)
        return false;
    if (!d->frozen) {
        kv_dict_entry_free(d, e);
    } else if (d->type && d->type->value_free) {
        d->type->value_free(e);   /* a snapshot's object waits for its end (kv_obj_release) */
    }
    return true;
}

struct kv_dict_entry *kv_dict_entry_writable(struct kv_dict *d, struct kv_dict_entry *e)
{
    if (!d->frozen || (kv_entry_tags(e) & KV_ENTRY_BORN))
        return e;
    struct kv_dict_entry *dead = kv_dict_unlink(d, e->key->data, e->key->len);
    struct kv_dict_entry *fresh = kv_dict_insert(d, dead->key->data, dead->key->len, NULL, NULL);
    fresh->v = dead->v;
    return fresh;
}

struct kv_dict_entry *kv_dict_random(struct kv_dict *d)
{
    if (kv_dict_size(d) == 0)
        return NULL;
    struct kv_dict_entry *he = NULL;
    if (kv_dict_is_rehashing(d)) {
        /* buckets below rehash_index of table 0 are empty */
        uint64_t span = d->size[0] + d->size[1] - (uint64_t)d->rehash_index;
        do {
            uint64_t h = (uint64_t)d->rehash_index + kv_random() % span;
            he = h >= d->size[0] ? d->table[1][h - d->size[0]] : d->table[0][h];
        } while (!he);
    } else {
        do {
            he = d->table[0][kv_random() & (d->size[0] - 1)];
        } while (!he);
    }
    size_t n = 0;
    for (struct kv_dict_entry *e = he; e; e = kv_entry_next(e))
        n += !kv_entry_dead(e);
    if (n == 0)   /* only deleted entries kept for a snapshot here */
        return kv_dict_random(d);
    size_t pick = kv_random() % n;
    while (kv_entry_dead(he) || pick--)
        he = kv_entry_next(he);
    return he;
}

static uint64_t kv_rev(uint64_t v)
{
    uint64_t s = 64, mask = ~(uint64_t)0;
    while ((s >>= 1) > 0) {
        mask ^= (mask << s);
        v = ((v >> s) & mask) | ((v << s) & ~mask);
    }
    return v;
}

uint64_t kv_dict_scan(struct kv_dict *d, uint64_t v,
                      void (*fn)(void *arg, const struct kv_dict_entry *e), void *arg)
{
    if (kv_dict_size(d) == 0)
        return 0;
    d->pause_rehash++;
    if (!kv_dict_is_rehashing(d)) {
        uint64_t m0 = d->size[0] - 1;
        for (struct kv_dict_entry *e = d->table[0][v & m0]; e; e = kv_entry_next(e))
            if (!kv_entry_dead(e))
                fn(arg, e);
        v |= ~m0;
        v = kv_rev(v);
        v++;
        v = kv_rev(v);
    } else {
        int t0 = 0, t1 = 1;
        if (d->size[t0] > d->size[t1]) {
            t0 = 1;
            t1 = 0;
        }
        uint64_t m0 = d->size[t0] - 1, m1 = d->size[t1] - 1;
        for (struct kv_dict_entry *e = d->table[t0][v & m0]; e; e = kv_entry_next(e))
            if (!kv_entry_dead(e))
                fn(arg, e);
        do {
            for (struct kv_dict_entry *e = d->table[t1][v & m1]; e; e = kv_entry_next(e))
                if (!kv_entry_dead(e))
                    fn(arg, e);
            v |= ~m1;
            v = kv_rev(v);
            v++;
            v = kv_rev(v);
        } while (v & (m0 ^ m1));
    }
    d->pause_rehash--;
    return v;
}

void kv_dict_iter_init(struct kv_dict_iter *it, struct kv_dict *d)
{
    it->d = d;
    it->table = 0;
    it->index = 0;
    it->entry = NULL;
    it->next = NULL;
    d->pause_rehash++;
}

struct kv_dict_entry *kv_dict_iter_next(struct kv_dict_iter *it)
{
    struct kv_dict *d = it->d;
    for (;;) {
        if (it->next) {
            it->entry = it->next;
            it->next = kv_entry_next(it->entry);
            if (kv_entry_dead(it->entry))
                continue;
            return it->entry;
        }
        if (it->index >= d->size[it->table]) {
            if (it->table == 0 && kv_dict_is_rehashing(d)) {
                it->table = 1;
                it->index = 0;
                continue;
            }
            return NULL;
        }
        it->next = d->table[it->table][it->index++];
    }
}

void kv_dict_iter_done(struct kv_dict_iter *it)
{
    if (it->d) {
        it->d->pause_rehash--;
        it->d = NULL;
    }
}

/* The cron's share: rehash for up to ~1 ms worth of buckets (Redis:
 * dictRehashMilliseconds(1)), by steps of 100. */
void kv_dict_rehash_cron(struct kv_dict *d)
{
    for (int i = 0; i < 10 && kv_dict_rehash_step(d, 100); i++) {
    }
}

/* The snapshot's walk (kv_persist.h): reads only. */
const struct kv_dict_entry *kv_dict_snapshot_next(const struct kv_dict *d,
                                                  struct kv_dict_cursor *cur)
{
    for (;;) {
        const struct kv_dict_entry *e = cur->next;
        if (e) {
            cur->next = kv_entry_next(e);
            if (kv_entry_tags(e) & (cur->live ? KV_ENTRY_DEAD : KV_ENTRY_BORN))
                continue;
            return e;
        }
        if (cur->table > 1 || !__atomic_load_n(&d->size[cur->table], __ATOMIC_ACQUIRE) ||
            !__atomic_load_n(&d->table[cur->table], __ATOMIC_ACQUIRE))
            return NULL;
        if (cur->index >= d->size[cur->table]) {
            cur->table++;
            cur->index = 0;
            continue;
        }
        cur->next = __atomic_load_n(&d->table[cur->table][cur->index++], __ATOMIC_ACQUIRE);
    }
}

const struct kv_dict_entry *kv_dict_snapshot_find(const struct kv_dict *d,
                                                  const struct kv_snapshot *snap,
                                                  const struct kv_str *key)
{
    uint64_t h = kv_hash_seeded(snap->hash_seed, key->data, key->len);
    unsigned hidden = snap->live ? KV_ENTRY_DEAD : KV_ENTRY_BORN;
    for (int t = 0; t <= 1; t++) {
        uint64_t size = __atomic_load_n(&d->size[t], __ATOMIC_ACQUIRE);
        struct kv_dict_entry **table = __atomic_load_n(&d->table[t], __ATOMIC_ACQUIRE);
        if (!size || !table)
            break;
        const struct kv_dict_entry *e = __atomic_load_n(&table[h & (size - 1)], __ATOMIC_ACQUIRE);
        for (; e; e = kv_entry_next(e))
            if (!(kv_entry_tags(e) & hidden) && e->key->len == key->len &&
                memcmp(e->key->data, key->data, key->len) == 0)
                return e;
    }
    return NULL;
}

void kv_dict_freeze(struct kv_dict *d) { d->frozen = true; }
bool kv_dict_is_frozen(const struct kv_dict *d) { return d->frozen; }

/* Unlinks the dead entry e (no longer reachable by anyone but its chain). */
static void kv_dict_unlink_dead(struct kv_dict *d, struct kv_dict_entry *e)
{
    uint64_t h = kv_hash(e->key->data, e->key->len);
    for (int t = 0; t <= 1; t++) {
        if (!d->size[t])
            break;
        struct kv_dict_entry **pp = &d->table[t][h & (d->size[t] - 1)];
        for (struct kv_dict_entry *x = *pp; x; pp = &x->next, x = x->next)
            if (x == e) {
                *pp = x->next;
                return;
            }
    }
    __builtin_trap();   /* a kept entry is always linked */
}

/* The snapshot is over: BORN entries become ordinary, DEAD ones go (their
 * values were released or moved when they died). */
void kv_dict_thaw(struct kv_dict *d)
{
    if (!d->frozen)
        return;
    /* every tag first: unlinking walks chains through untagged pointers */
    for (size_t i = 0; i < d->born_count; i++)
        kv_entry_set_next(d->born[i], kv_entry_next(d->born[i]), 0);
    for (size_t i = 0; i < d->dead_count; i++)
        kv_entry_set_next(d->dead[i], kv_entry_next(d->dead[i]), 0);
    for (size_t i = 0; i < d->dead_count; i++) {
        struct kv_dict_entry *e = d->dead[i];
        kv_dict_unlink_dead(d, e);
        kv_str_free(e->key);
        kv_free(e);
    }
    kv_free(d->born);
    kv_free(d->dead);
    d->born = d->dead = NULL;
    d->born_count = d->born_cap = d->dead_count = d->dead_cap = 0;
    d->frozen = false;
}

size_t kv_dict_frozen_bytes(const struct kv_dict *d)
{
    return d->frozen ? (d->born_cap + d->dead_cap) * sizeof(struct kv_dict_entry *) : 0;
}
