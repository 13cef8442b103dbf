/* Set algebra (Redis's sinterGenericCommand / sunionDiffGenericCommand):
 * SINTER, SINTERCARD, SUNION, SDIFF and the STORE forms; SMEMBERS is SINTER
 * of one key. A missing key is an empty set; any key of another type is
 * -WRONGTYPE before anything is computed. */
#include "t_set.h"

/* Looks up n keys as sets: false after -WRONGTYPE; missing keys are NULL. */
static bool set_ops_lookup(struct kv_client *c, struct kv_str *const *keys, int n,
                           struct kv_dict **sets)
{
    for (int j = 0; j < n; j++) {
        bool replied = false;
        struct kv_obj *o = kv_db_lookup_read_type(c, keys[j], KV_SET, &replied);
        if (replied)
            return false;
        sets[j] = o ? o->ptr : NULL;
    }
    return true;
}

/* Stores result at dst (deleting dst when empty) and replies its size. */
static void set_ops_store(struct kv_client *c, const struct kv_str *dst, struct kv_dict *result)
{
    int64_t size = (int64_t)kv_dict_size(result);
    if (size > 0) {
        kv_db_set(c, dst, kv_obj_new(KV_SET, KV_ENC_HASHTABLE, result), false);
        kv_key_modified(c, dst);
    } else {
        kv_dict_free(result);
        if (kv_db_delete(c, dst))
            kv_key_modified(c, dst);
    }
    kv_reply_int(c, size);
}

static void set_ops_reply(struct kv_client *c, struct kv_dict *result)
{
    struct kv_dict_iter it;
    struct kv_dict_entry *e;
    kv_reply_array(c, (int64_t)kv_dict_size(result));
    kv_dict_iter_init(&it, result);
    while ((e = kv_dict_iter_next(&it)))
        kv_reply_bulk_str(c, e->key);
    kv_dict_iter_done(&it);
    kv_dict_free(result);
}

/* The intersection; limit (cardinality only) stops counting early, 0: none. */
static void set_inter_generic(struct kv_client *c, struct kv_str *const *keys, int n,
                              const struct kv_str *dst, bool card_only, int64_t limit)
{
    struct kv_dict **sets = kv_calloc(sizeof(*sets) * (size_t)n);
    if (!set_ops_lookup(c, keys, n, sets))
        goto out;
    bool empty = false;
    for (int j = 0; j < n; j++)
        empty |= sets[j] == NULL;
    if (empty) {
        if (dst) {
            if (kv_db_delete(c, dst))
                kv_key_modified(c, dst);
            kv_reply_int(c, 0);
        } else if (card_only) {
            kv_reply_int(c, 0);
        } else {
            kv_reply_array(c, 0);
        }
        goto out;
    }
    /* smallest first: fewer lookups (a stable insertion sort) */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && kv_dict_size(sets[j]) < kv_dict_size(sets[j - 1]); j--) {
            struct kv_dict *t = sets[j];
            sets[j] = sets[j - 1];
            sets[j - 1] = t;
        }
    struct kv_dict *result = card_only ? NULL : kv_set_dict_new();
    int64_t card = 0;
    struct kv_dict_iter it;
    struct kv_dict_entry *e;
    kv_dict_iter_init(&it, sets[0]);
    while ((e = kv_dict_iter_next(&it))) {
        int j;
        for (j = 1; j < n; j++)
            if (sets[j] != sets[0] && !kv_dict_find(sets[j], e->key->data, e->key->len))
                break;
        if (j < n)
            continue;
        card++;
        if (result)
            kv_dict_add(result, e->key->data, e->key->len, NULL);
        else if (limit && card >= limit)
            break;
    }
    kv_dict_iter_done(&it);
    if (card_only)
        kv_reply_int(c, card);
    else if (dst)
        set_ops_store(c, dst, result);
    else
        set_ops_reply(c, result);
out:
    kv_free(sets);
}

enum set_op { SET_OP_UNION, SET_OP_DIFF };

static void set_union_diff_generic(struct kv_client *c, struct kv_str *const *keys, int n,
                                   const struct kv_str *dst, enum set_op op)
{
    struct kv_dict **sets = kv_calloc(sizeof(*sets) * (size_t)n);
    if (!set_ops_lookup(c, keys, n, sets))
        goto out;
    struct kv_dict *result = kv_set_dict_new();
    struct kv_dict_iter it;
    struct kv_dict_entry *e;
    if (op == SET_OP_UNION) {
        for (int j = 0; j < n; j++) {
            if (!sets[j])
                continue;
            kv_dict_iter_init(&it, sets[j]);
            while ((e = kv_dict_iter_next(&it)))
                kv_dict_add(result, e->key->data, e->key->len, NULL);
            kv_dict_iter_done(&it);
        }
    } else if (sets[0]) {
        kv_dict_iter_init(&it, sets[0]);
        while ((e = kv_dict_iter_next(&it))) {
            int j;
            for (j = 1; j < n; j++)
                if (sets[j] && (sets[j] == sets[0] ||
                                kv_dict_find(sets[j], e->key->data, e->key->len)))
                    break;
            if (j == n)
                kv_dict_add(result, e->key->data, e->key->len, NULL);
        }
        kv_dict_iter_done(&it);
    }
    if (dst)
        set_ops_store(c, dst, result);
    else
        set_ops_reply(c, result);
out:
    kv_free(sets);
}

void kv_cmd_sinter(struct kv_client *c)
{
    set_inter_generic(c, c->argv + 1, c->argc - 1, NULL, false, 0);
}

void kv_cmd_sinterstore(struct kv_client *c)
{
    set_inter_generic(c, c->argv + 2, c->argc - 2, c->argv[1], false, 0);
}

void kv_cmd_sintercard(struct kv_client *c)
{
    int64_t numkeys = 0, limit = 0;
    if (!kv_arg_range(c, c->argv[1], 1, INT64_MAX, "numkeys should be greater than 0", &numkeys))
        return;
    if (numkeys > c->argc - 2) {
        kv_reply_error(c, "Number of keys can't be greater than number of args");
        return;
    }
    for (int64_t j = 2 + numkeys; j < c->argc; j++) {
        if (kv_str_is(c->argv[j], "limit") && j < c->argc - 1) {
            j++;
            if (!kv_arg_range(c, c->argv[j], 0, INT64_MAX, "LIMIT can't be negative", &limit))
                return;
        } else {
            kv_reply_syntax_error(c);
            return;
        }
    }
    set_inter_generic(c, c->argv + 2, (int)numkeys, NULL, true, limit);
}

void kv_cmd_sunion(struct kv_client *c)
{
    set_union_diff_generic(c, c->argv + 1, c->argc - 1, NULL, SET_OP_UNION);
}

void kv_cmd_sunionstore(struct kv_client *c)
{
    set_union_diff_generic(c, c->argv + 2, c->argc - 2, c->argv[1], SET_OP_UNION);
}

void kv_cmd_sdiff(struct kv_client *c)
{
    set_union_diff_generic(c, c->argv + 1, c->argc - 1, NULL, SET_OP_DIFF);
}

void kv_cmd_sdiffstore(struct kv_client *c)
{
    set_union_diff_generic(c, c->argv + 2, c->argc - 2, c->argv[1], SET_OP_DIFF);
}
