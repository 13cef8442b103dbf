/* List commands (Redis 7.0's t_list.c: the same replies, errors and order
 * of checks). The value is a struct kv_list (t_list_chain.c). */
#include <string.h>

#include "kv.h"
#include "t_list.h"

/* ---- The type's ops (kv.h). */

static void list_type_free(struct kv_obj *o)
{
    kv_list_free(o->ptr);
}

static void list_type_dup(struct kv_obj *dst, const struct kv_obj *src)
{
    dst->ptr = kv_list_dup(src->ptr);
}

const struct kv_type_ops kv_list_type = {
    .name = "list",
    .free = list_type_free,
    .dup = list_type_dup,
};

/* ---- Helpers. */

static void reply_arity(struct kv_client *c, const char *name)
{
    kv_reply_errorf(c, "wrong number of arguments for '%s' command", name);
}

/* Redis's getRangeLongFromObjectOrReply with a message: the same text
 * whether the argument is not a number or out of range. */
static bool arg_at_least_zero(struct kv_client *c, const struct kv_str *arg, const char *msg,
                              int64_t *out)
{
    if (!kv_str_to_int64(arg, out) || *out < 0) {
        kv_reply_error(c, msg);
        return false;
    }
    return true;
}

/* Redis's "LEFT" / "RIGHT" (true: the head). */
static bool arg_side(struct kv_client *c, const struct kv_str *arg, bool *head)
{
    if (kv_str_is(arg, "left"))
        *head = true;
    else if (kv_str_is(arg, "right"))
        *head = false;
    else {
        kv_reply_syntax_error(c);
        return false;
    }
    return true;
}

static void reply_entry(struct kv_client *c, const struct kv_list_iter *it)
{
    size_t len;
    const unsigned char *p = kv_list_iter_get(it, &len);
    kv_reply_bulk(c, p, len);
}

/* Redis's addListRangeReply: start/end as the user gave them. */
static void reply_range(struct kv_client *c, struct kv_list *l, int64_t start, int64_t end,
                        bool reverse)
{
    if (!kv_rank_range((int64_t)l->len, &start, &end)) {
        kv_reply_array(c, 0);
        return;
    }
    int64_t n = end - start + 1;
    kv_reply_array(c, n);
    struct kv_list_iter it;
    bool ok = kv_list_iter_at(l, (uint64_t)(reverse ? end : start), !reverse, &it);
    for (int64_t i = 0; ok && i < n; i++) {
        reply_entry(c, &it);
        ok = kv_list_iter_next(&it);
    }
}

/* After elements left the list: the key goes when the list is empty. */
static void list_changed(struct kv_client *c, const struct kv_str *key, struct kv_obj *o)
{
    struct kv_list *l = o->ptr;
    if (l->len == 0)
        kv_db_delete(c, key);
    kv_key_modified(c, key);
}

/* An index as Redis takes it: negative from the tail; false out of range. */
static bool list_index(const struct kv_list *l, int64_t index, uint64_t *out)
{
    if (index < 0)
        index += (int64_t)l->len;
    if (index < 0 || (uint64_t)index >= l->len)
        return false;
    *out = (uint64_t)index;
    return true;
}

/* ---- Push. */

static void push_generic(struct kv_client *c, bool head, bool only_existing)
{
    const struct kv_str *key = c->argv[1];
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, key, KV_LIST, &replied);
    if (replied)
        return;
    struct kv_list *l;
    if (!o) {
        if (only_existing) {
            kv_reply_int(c, 0);
            return;
        }
        l = kv_list_new();
        for (int j = 2; j < c->argc; j++)
            kv_list_push(l, c->argv[j]->data, c->argv[j]->len, head);
        kv_db_add(c, key, kv_obj_new(KV_LIST, KV_ENC_LIST, l));
    } else {
        l = o->ptr;
        for (int j = 2; j < c->argc; j++)
            kv_list_push(l, c->argv[j]->data, c->argv[j]->len, head);
    }
    kv_reply_int(c, (int64_t)l->len);
    kv_key_modified(c, key);
}

static void lpush_command(struct kv_client *c)
{
    push_generic(c, true, false);
}

static void rpush_command(struct kv_client *c)
{
    push_generic(c, false, false);
}

static void lpushx_command(struct kv_client *c)
{
    push_generic(c, true, true);
}

static void rpushx_command(struct kv_client *c)
{
    push_generic(c, false, true);
}

/* ---- Pop. */

static void pop_generic(struct kv_client *c, bool head, const char *name)
{
    bool has_count = c->argc == 3;
    int64_t count = 0;
    if (c->argc > 3) {
        reply_arity(c, name);
        return;
    }
    if (has_count &&
        !arg_at_least_zero(c, c->argv[2], "value is out of range, must be positive", &count))
        return;
    const struct kv_str *key = c->argv[1];
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, key, KV_LIST, &replied);
    if (replied)
        return;
    if (!o) {
        if (has_count)
            kv_reply_null_array(c);
        else
            kv_reply_null(c);
        return;
    }
    struct kv_list *l = o->ptr;
    if (has_count && count == 0) {
        kv_reply_array(c, 0);
        return;
    }
    if (!has_count) {
        struct kv_list_iter it;
        kv_list_iter_at(l, head ? 0 : l->len - 1, head, &it);
        reply_entry(c, &it);
        kv_list_iter_delete(&it);
    } else {
        int64_t n = (uint64_t)count > l->len ? (int64_t)l->len : count;
        if (head)
            reply_range(c, l, 0, n - 1, false);
        else
            reply_range(c, l, -n, -1, true);
        kv_list_remove_ends(l, head, (uint64_t)n);
    }
    list_changed(c, key, o);
}

static void lpop_command(struct kv_client *c)
{
    pop_generic(c, true, "lpop");
}

static void rpop_command(struct kv_client *c)
{
    pop_generic(c, false, "rpop");
}

/* ---- Reading. */

static void llen_command(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_LIST, &replied);
    if (replied)
        return;
    kv_reply_int(c, o ? (int64_t)((struct kv_list *)o->ptr)->len : 0);
}

static void lindex_command(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_LIST, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_null(c);
        return;
    }
    int64_t index;
    if (!kv_arg_int64(c, c->argv[2], &index))
        return;
    struct kv_list *l = o->ptr;
    uint64_t i;
    struct kv_list_iter it;
    if (list_index(l, index, &i) && kv_list_iter_at(l, i, true, &it))
        reply_entry(c, &it);
    else
        kv_reply_null(c);
}

static void lrange_command(struct kv_client *c)
{
    int64_t start, end;
    if (!kv_arg_int64(c, c->argv[2], &start) || !kv_arg_int64(c, c->argv[3], &end))
        return;
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_LIST, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_array(c, 0);
        return;
    }
    reply_range(c, o->ptr, start, end, false);
}

static void lpos_command(struct kv_client *c)
{
    int64_t rank = 1, count = -1, maxlen = 0;   /* count -1: no COUNT */
    for (int j = 3; j < c->argc; j++) {
        const struct kv_str *opt = c->argv[j];
        bool more = j + 1 < c->argc;
        if (kv_str_is(opt, "rank") && more) {
            j++;
            if (!kv_arg_int64(c, c->argv[j], &rank))
                return;
            if (rank == 0) {
                kv_reply_error(c, "RANK can't be zero: use 1 to start from the first match, "
                                  "2 from the second ... or use negative to start from the "
                                  "end of the list");
                return;
            }
        } else if (kv_str_is(opt, "count") && more) {
            j++;
            if (!arg_at_least_zero(c, c->argv[j], "COUNT can't be negative", &count))
                return;
        } else if (kv_str_is(opt, "maxlen") && more) {
            j++;
            if (!arg_at_least_zero(c, c->argv[j], "MAXLEN can't be negative", &maxlen))
                return;
        } else {
            kv_reply_syntax_error(c);
            return;
        }
    }
    bool forward = true;
    if (rank == INT64_MIN) {
        /* Redis negates it in place (it stays LLONG_MIN): every match from
         * the tail counts, and no COUNT is ever reached */
        rank = -1;
        if (count > 0)
            count = 0;
    }
    if (rank < 0) {
        rank = -rank;
        forward = false;
    }
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_LIST, &replied);
    if (replied)
        return;
    if (!o) {
        if (count != -1)
            kv_reply_array(c, 0);
        else
            kv_reply_null(c);
        return;
    }
    struct kv_list *l = o->ptr;
    const struct kv_str *ele = c->argv[2];
    void *deferred = count != -1 ? kv_reply_deferred_len(c) : NULL;
    int64_t llen = (int64_t)l->len, index = 0, matches = 0, found = -1, n = 0;
    struct kv_list_iter it;
    bool ok = kv_list_iter_at(l, forward ? 0 : l->len - 1, forward, &it);
    while (ok && (maxlen == 0 || index < maxlen)) {
        if (kv_list_iter_eq(&it, ele->data, ele->len)) {
            matches++;
            found = forward ? index : llen - index - 1;
            if (matches >= rank) {
                if (!deferred)
                    break;
                n++;
                kv_reply_int(c, found);
                if (count && matches - rank + 1 >= count)
                    break;
            }
        }
        index++;
        found = -1;
        ok = kv_list_iter_next(&it);
    }
    if (deferred)
        kv_reply_set_deferred_len(c, deferred, n);
    else if (found != -1)
        kv_reply_int(c, found);
    else
        kv_reply_null(c);
}

/* ---- Changing in place. */

static void lset_command(struct kv_client *c)
{
    const struct kv_str *key = c->argv[1];
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, key, KV_LIST, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_error(c, "no such key");
        return;
    }
    int64_t index;
    if (!kv_arg_int64(c, c->argv[2], &index))
        return;
    struct kv_list *l = o->ptr;
    uint64_t i;
    struct kv_list_iter it;
    if (!list_index(l, index, &i) || !kv_list_iter_at(l, i, true, &it)) {
        kv_reply_error(c, "index out of range");
        return;
    }
    kv_list_iter_replace(&it, c->argv[3]->data, c->argv[3]->len);
    kv_reply_ok(c);
    kv_key_modified(c, key);
}

static void linsert_command(struct kv_client *c)
{
    bool after;
    if (kv_str_is(c->argv[2], "after"))
        after = true;
    else if (kv_str_is(c->argv[2], "before"))
        after = false;
    else {
        kv_reply_syntax_error(c);
        return;
    }
    const struct kv_str *key = c->argv[1], *pivot = c->argv[3], *value = c->argv[4];
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, key, KV_LIST, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_int(c, 0);
        return;
    }
    struct kv_list *l = o->ptr;
    struct kv_list_iter it;
    for (bool ok = kv_list_iter_at(l, 0, true, &it); ok; ok = kv_list_iter_next(&it)) {
        if (kv_list_iter_eq(&it, pivot->data, pivot->len)) {
            kv_list_iter_insert(&it, value->data, value->len, after);
            kv_reply_int(c, (int64_t)l->len);
            kv_key_modified(c, key);
            return;
        }
    }
    kv_reply_int(c, -1);
}

static void lrem_command(struct kv_client *c)
{
    int64_t toremove;
    if (!kv_arg_int64(c, c->argv[2], &toremove))
        return;
    const struct kv_str *key = c->argv[1], *ele = c->argv[3];
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, key, KV_LIST, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_int(c, 0);
        return;
    }
    struct kv_list *l = o->ptr;
    bool forward = toremove >= 0;
    /* -LLONG_MIN does not exist: Redis's wraps to itself and removes all. */
    uint64_t limit = toremove >= 0 ? (uint64_t)toremove
                     : toremove == INT64_MIN ? 0 : (uint64_t)-toremove;
    uint64_t removed = 0;
    struct kv_list_iter it;
    bool ok = kv_list_iter_at(l, forward ? 0 : l->len - 1, forward, &it);
    while (ok) {
        if (kv_list_iter_eq(&it, ele->data, ele->len)) {
            ok = kv_list_iter_delete(&it);
            removed++;
            if (limit && removed == limit)
                break;
        } else {
            ok = kv_list_iter_next(&it);
        }
    }
    if (removed)
        list_changed(c, key, o);
    kv_reply_int(c, (int64_t)removed);
}

static void ltrim_command(struct kv_client *c)
{
    int64_t start, end;
    if (!kv_arg_int64(c, c->argv[2], &start) || !kv_arg_int64(c, c->argv[3], &end))
        return;
    const struct kv_str *key = c->argv[1];
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, key, KV_LIST, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_ok(c);
        return;
    }
    struct kv_list *l = o->ptr;
    int64_t llen = (int64_t)l->len, ltrim = llen, rtrim = 0;   /* empty range: all goes */
    if (kv_rank_range(llen, &start, &end)) {
        ltrim = start;
        rtrim = llen - end - 1;
    }
    kv_list_remove_ends(l, true, (uint64_t)ltrim);
    kv_list_remove_ends(l, false, (uint64_t)rtrim);
    list_changed(c, key, o);
    kv_reply_ok(c);
}

/* ---- Moving between lists. */

static void move_generic(struct kv_client *c, bool from_head, bool to_head)
{
    const struct kv_str *src = c->argv[1], *dst = c->argv[2];
    bool replied = false;
    struct kv_obj *so = kv_db_lookup_write_type(c, src, KV_LIST, &replied);
    if (replied)
        return;
    if (!so) {
        kv_reply_null(c);
        return;
    }
    struct kv_obj *dobj = kv_db_lookup_write_type(c, dst, KV_LIST, &replied);
    if (replied)
        return;
    /* the destination may be the source: take the value out first */
    struct kv_str *value = kv_list_pop(so->ptr, from_head);
    if (!dobj) {
        struct kv_list *l = kv_list_new();
        kv_list_push(l, value->data, value->len, to_head);
        kv_db_add(c, dst, kv_obj_new(KV_LIST, KV_ENC_LIST, l));
    } else {
        kv_list_push(dobj->ptr, value->data, value->len, to_head);
    }
    kv_key_modified(c, dst);
    kv_reply_bulk_str(c, value);
    kv_str_free(value);
    /* so is still the source's value: a new destination key does not move it */
    list_changed(c, src, so);
}

static void rpoplpush_command(struct kv_client *c)
{
    move_generic(c, false, true);
}

static void lmove_command(struct kv_client *c)
{
    bool from_head, to_head;
    if (!arg_side(c, c->argv[3], &from_head) || !arg_side(c, c->argv[4], &to_head))
        return;
    move_generic(c, from_head, to_head);
}

#define W KV_CMD_WRITE
#define M KV_CMD_DENYOOM
#define R KV_CMD_READONLY
#define F KV_CMD_FAST
const struct kv_command kv_list_commands[] = {
    {"lpush", lpush_command, -3, W | M | F, 1, 1, 1, "list",
     "Prepend one or multiple elements to a list"},
    {"rpush", rpush_command, -3, W | M | F, 1, 1, 1, "list",
     "Append one or multiple elements to a list"},
    {"lpushx", lpushx_command, -3, W | M | F, 1, 1, 1, "list",
     "Prepend an element to a list, only if the list exists"},
    {"rpushx", rpushx_command, -3, W | M | F, 1, 1, 1, "list",
     "Append an element to a list, only if the list exists"},
    {"lpop", lpop_command, -2, W | F, 1, 1, 1, "list",
     "Remove and get the first elements in a list"},
    {"rpop", rpop_command, -2, W | F, 1, 1, 1, "list",
     "Remove and get the last elements in a list"},
    {"llen", llen_command, 2, R | F, 1, 1, 1, "list", "Get the length of a list"},
    {"lindex", lindex_command, 3, R, 1, 1, 1, "list", "Get an element from a list by its index"},
    {"lrange", lrange_command, 4, R, 1, 1, 1, "list", "Get a range of elements from a list"},
    {"lpos", lpos_command, -3, R, 1, 1, 1, "list",
     "Return the index of matching elements on a list"},
    {"lset", lset_command, 4, W | M, 1, 1, 1, "list",
     "Set the value of an element in a list by its index"},
    {"linsert", linsert_command, 5, W | M, 1, 1, 1, "list",
     "Insert an element before or after another element in a list"},
    {"lrem", lrem_command, 4, W, 1, 1, 1, "list", "Remove elements from a list"},
    {"ltrim", ltrim_command, 4, W, 1, 1, 1, "list", "Trim a list to the specified range"},
    {"rpoplpush", rpoplpush_command, 3, W | M, 1, 2, 1, "list",
     "Remove the last element in a list, prepend it to another list and return it"},
    {"lmove", lmove_command, 5, W | M, 1, 2, 1, "list",
     "Pop an element from a list, push it to another list and return it"},
    {.name = NULL},
};
