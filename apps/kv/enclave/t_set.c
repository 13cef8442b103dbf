/* Sets (Redis's t_set.c): a kv_dict of members. SADD/SREM/SMOVE and the
 * membership commands, the random ones (SPOP, SRANDMEMBER) and SSCAN; the
 * algebra (SINTER, SUNION, SDIFF and their STORE forms) is in t_set_ops.c. */
#include "t_set.h"

static const struct kv_dict_type set_dict_type = { .value_free = NULL };

struct kv_dict *kv_set_dict_new(void)
{
    return kv_dict_new(&set_dict_type);
}

static void set_free(struct kv_obj *o)
{
    kv_dict_free(o->ptr);
}

static void set_dup(struct kv_obj *dst, const struct kv_obj *src)
{
    struct kv_dict *d = kv_set_dict_new();
    struct kv_dict_iter it;
    struct kv_dict_entry *e;
    kv_dict_iter_init(&it, src->ptr);
    while ((e = kv_dict_iter_next(&it)))
        kv_dict_add(d, e->key->data, e->key->len, NULL);
    kv_dict_iter_done(&it);
    dst->ptr = d;
}

const struct kv_type_ops kv_set_type = { .name = "set", .free = set_free, .dup = set_dup };

static struct kv_dict *set_dict(struct kv_obj *o)
{
    return o->ptr;
}

void kv_cmd_sadd(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_SET, &replied);
    if (replied)
        return;
    if (!o) {
        o = kv_obj_new(KV_SET, KV_ENC_HASHTABLE, kv_set_dict_new());
        kv_db_add(c, c->argv[1], o);
    }
    int64_t added = 0;
    for (int j = 2; j < c->argc; j++)
        if (kv_dict_add(set_dict(o), c->argv[j]->data, c->argv[j]->len, NULL))
            added++;
    if (added)
        kv_key_modified(c, c->argv[1]);
    kv_reply_int(c, added);
}

void kv_cmd_srem(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_SET, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_int(c, 0);
        return;
    }
    int64_t deleted = 0;
    bool emptied = false;
    for (int j = 2; j < c->argc; j++) {
        if (kv_dict_delete(set_dict(o), c->argv[j]->data, c->argv[j]->len))
            deleted++;
        if (kv_dict_size(set_dict(o)) == 0) {
            kv_db_delete(c, c->argv[1]);
            emptied = true;
            break;
        }
    }
    if (deleted || emptied)
        kv_key_modified(c, c->argv[1]);
    kv_reply_int(c, deleted);
}

void kv_cmd_smove(struct kv_client *c)
{
    const struct kv_str *src_key = c->argv[1], *dst_key = c->argv[2], *ele = c->argv[3];
    bool replied = false;
    struct kv_obj *src = kv_db_lookup_write_type(c, src_key, KV_SET, &replied);
    if (replied)
        return;
    if (!src) {
        kv_reply_int(c, 0);
        return;
    }
    struct kv_obj *dst = kv_db_lookup_write_type(c, dst_key, KV_SET, &replied);
    if (replied)
        return;
    if (kv_str_eq(src_key, dst_key)) {
        kv_reply_int(c, kv_dict_find(set_dict(src), ele->data, ele->len) ? 1 : 0);
        return;
    }
    if (!kv_dict_delete(set_dict(src), ele->data, ele->len)) {
        kv_reply_int(c, 0);
        return;
    }
    if (kv_dict_size(set_dict(src)) == 0)
        kv_db_delete(c, src_key);
    if (!dst) {
        dst = kv_obj_new(KV_SET, KV_ENC_HASHTABLE, kv_set_dict_new());
        kv_db_add(c, dst_key, dst);
    }
    kv_dict_add(set_dict(dst), ele->data, ele->len, NULL);
    kv_key_modified(c, src_key);
    kv_key_modified(c, dst_key);
    kv_reply_int(c, 1);
}

void kv_cmd_sismember(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_SET, &replied);
    if (replied)
        return;
    kv_reply_int(c, o && kv_dict_find(set_dict(o), c->argv[2]->data, c->argv[2]->len) ? 1 : 0);
}

void kv_cmd_smismember(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_SET, &replied);
    if (replied)
        return;
    kv_reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++)
        kv_reply_int(c, o && kv_dict_find(set_dict(o), c->argv[j]->data, c->argv[j]->len) ? 1 : 0);
}

void kv_cmd_scard(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_SET, &replied);
    if (replied)
        return;
    kv_reply_int(c, o ? (int64_t)kv_dict_size(set_dict(o)) : 0);
}

static void set_reply_members(struct kv_client *c, struct kv_dict *d)
{
    struct kv_dict_iter it;
    struct kv_dict_entry *e;
    kv_reply_array(c, (int64_t)kv_dict_size(d));
    kv_dict_iter_init(&it, d);
    while ((e = kv_dict_iter_next(&it)))
        kv_reply_bulk_str(c, e->key);
    kv_dict_iter_done(&it);
}

/* SPOP key [count]: without count a bulk (nil when missing); with count an
 * array of distinct members, the whole set (and the key gone) when count
 * reaches its size. */
void kv_cmd_spop(struct kv_client *c)
{
    if (c->argc > 3) {
        kv_reply_syntax_error(c);
        return;
    }
    int64_t count = 1;
    if (c->argc == 3 &&
        !kv_arg_range(c, c->argv[2], 0, INT64_MAX, "value is out of range, must be positive",
                      &count))
        return;
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_SET, &replied);
    if (replied)
        return;
    if (!o) {
        if (c->argc == 3)
            kv_reply_array(c, 0);
        else
            kv_reply_null(c);
        return;
    }
    if (c->argc == 3 && count == 0) {
        kv_reply_array(c, 0);
        return;
    }
    struct kv_dict *d = set_dict(o);
    uint64_t size = kv_dict_size(d);
    if ((uint64_t)count >= size && c->argc == 3) {
        set_reply_members(c, d);
        kv_db_delete(c, c->argv[1]);
        kv_key_modified(c, c->argv[1]);
        return;
    }
    if (c->argc == 3)
        kv_reply_array(c, count);
    while (count-- > 0) {
        struct kv_dict_entry *e = kv_dict_random(d);
        kv_reply_bulk_str(c, e->key);
        kv_dict_delete(d, e->key->data, e->key->len);
    }
    if (kv_dict_size(d) == 0)
        kv_db_delete(c, c->argv[1]);
    kv_key_modified(c, c->argv[1]);
}

/* SRANDMEMBER key [count]: a positive count gives distinct members (at
 * most the set), a negative one -count members that may repeat. */
void kv_cmd_srandmember(struct kv_client *c)
{
    if (c->argc > 3) {
        kv_reply_syntax_error(c);
        return;
    }
    int64_t l = 0;
    if (c->argc == 3 && !kv_random_count(c, c->argv[2], &l))
        return;
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_SET, &replied);
    if (replied)
        return;
    if (c->argc == 2) {
        if (!o)
            kv_reply_null(c);
        else
            kv_reply_bulk_str(c, kv_dict_random(set_dict(o))->key);
        return;
    }
    if (!o || l == 0) {
        kv_reply_array(c, 0);
        return;
    }
    struct kv_dict *d = set_dict(o);
    uint64_t count = l < 0 ? (uint64_t)-l : (uint64_t)l;
    if (l < 0 || count == 1) {
        kv_reply_array(c, (int64_t)count);
        while (count--)
            kv_reply_bulk_str(c, kv_dict_random(d)->key);
        return;
    }
    if (count >= kv_dict_size(d)) {
        set_reply_members(c, d);
        return;
    }
    struct kv_dict *sample = kv_dict_sample_unique(d, count);
    set_reply_members(c, sample);
    kv_dict_free(sample);
}

void kv_cmd_sscan(struct kv_client *c)
{
    if (!kv_scan_cursor_valid(c, c->argv[2]))
        return;
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_SET, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_empty_scan(c);
        return;
    }
    kv_scan_reply(c, set_dict(o), 2, NULL);
}

void kv_cmd_sinter(struct kv_client *c);
void kv_cmd_sinterstore(struct kv_client *c);
void kv_cmd_sintercard(struct kv_client *c);
void kv_cmd_sunion(struct kv_client *c);
void kv_cmd_sunionstore(struct kv_client *c);
void kv_cmd_sdiff(struct kv_client *c);
void kv_cmd_sdiffstore(struct kv_client *c);

#define W KV_CMD_WRITE
#define R KV_CMD_READONLY
#define M KV_CMD_DENYOOM
#define F KV_CMD_FAST
const struct kv_command kv_set_commands[] = {
    { "sadd", kv_cmd_sadd, -3, W | M | F, 1, 1, 1, "set", "Add one or more members to a set" },
    { "srem", kv_cmd_srem, -3, W | F, 1, 1, 1, "set", "Remove one or more members from a set" },
    { "smove", kv_cmd_smove, 4, W | F, 1, 2, 1, "set",
      "Move a member from one set to another" },
    { "sismember", kv_cmd_sismember, 3, R | F, 1, 1, 1, "set",
      "Determine if a given value is a member of a set" },
    { "smismember", kv_cmd_smismember, -3, R | F, 1, 1, 1, "set",
      "Returns the membership associated with the given elements for a set" },
    { "scard", kv_cmd_scard, 2, R | F, 1, 1, 1, "set", "Get the number of members in a set" },
    { "smembers", kv_cmd_sinter, 2, R, 1, 1, 1, "set", "Get all the members in a set" },
    { "spop", kv_cmd_spop, -2, W | F, 1, 1, 1, "set",
      "Remove and return one or multiple random members from a set" },
    { "srandmember", kv_cmd_srandmember, -2, R, 1, 1, 1, "set",
      "Get one or multiple random members from a set" },
    { "sinter", kv_cmd_sinter, -2, R, 1, -1, 1, "set", "Intersect multiple sets" },
    { "sinterstore", kv_cmd_sinterstore, -3, W | M, 1, -1, 1, "set",
      "Intersect multiple sets and store the resulting set in a key" },
    { "sintercard", kv_cmd_sintercard, -3, R, 0, 0, 0, "set",
      "Intersect multiple sets and return the cardinality of the result" },
    { "sunion", kv_cmd_sunion, -2, R, 1, -1, 1, "set", "Add multiple sets" },
    { "sunionstore", kv_cmd_sunionstore, -3, W | M, 1, -1, 1, "set",
      "Add multiple sets and store the resulting set in a key" },
    { "sdiff", kv_cmd_sdiff, -2, R, 1, -1, 1, "set", "Subtract multiple sets" },
    { "sdiffstore", kv_cmd_sdiffstore, -3, W | M, 1, -1, 1, "set",
      "Subtract multiple sets and store the resulting set in a key" },
    { "sscan", kv_cmd_sscan, -3, R, 1, 1, 1, "set", "Incrementally iterate Set elements" },
    { .name = NULL },
};
