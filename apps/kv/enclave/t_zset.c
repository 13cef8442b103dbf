/* Sorted sets (Redis's t_zset.c): the value (skiplist + dict, see t_zset.h)
 * and the commands on members: ZADD, ZINCRBY, ZREM, ZSCORE, ZMSCORE, ZCARD,
 * ZRANK, ZREVRANK, ZPOPMIN/ZPOPMAX, ZRANDMEMBER, ZSCAN. Ranges are in
 * t_zset_range.c, ZUNIONSTORE/ZINTERSTORE in t_zset_store.c. */
#include <math.h>

#include "t_set.h"
#include "t_zset.h"

static const struct kv_dict_type zset_dict_type = { .value_free = NULL };

struct kv_zset *kv_zset_new(void)
{
    struct kv_zset *zs = kv_alloc(sizeof(*zs));
    zs->dict = kv_dict_new(&zset_dict_type);
    kv_zsl_init(&zs->zsl);
    return zs;
}

uint64_t kv_zset_length(const struct kv_zset *zs)
{
    return zs->zsl.length;
}

void kv_zset_free(struct kv_zset *zs)
{
    kv_zsl_free_nodes(&zs->zsl);
    kv_dict_free(zs->dict);
    kv_free(zs);
}

static void zset_free(struct kv_obj *o)
{
    kv_zset_free(o->ptr);
}

/* The member is stored once, as the dict's key; the node points at it. */
static struct kv_zsl_node *zset_insert(struct kv_zset *zs, double score, const struct kv_str *m)
{
    struct kv_dict_entry *e = kv_dict_add(zs->dict, m->data, m->len, NULL);
    e->v.d = score;
    return kv_zsl_insert(&zs->zsl, score, e->key);
}

static void zset_dup(struct kv_obj *dst, const struct kv_obj *src)
{
    const struct kv_zset *from = src->ptr;
    struct kv_zset *to = kv_zset_new();
    for (const struct kv_zsl_node *n = from->zsl.header->level[0].forward; n;
         n = n->level[0].forward)
        zset_insert(to, n->score, n->ele);
    dst->ptr = to;
}

const struct kv_type_ops kv_zset_type = { .name = "zset", .free = zset_free, .dup = zset_dup };

enum kv_zadd_result kv_zset_add(struct kv_zset *zs, double score, const struct kv_str *member,
                                int flags, double *newscore)
{
    if (isnan(score))
        return KV_ZADD_NAN;
    struct kv_dict_entry *e = kv_dict_find(zs->dict, member->data, member->len);
    if (!e) {
        if (flags & KV_ZADD_XX)
            return KV_ZADD_NOP;
        zset_insert(zs, score, member);
        *newscore = score;
        return KV_ZADD_ADDED;
    }
    if (flags & KV_ZADD_NX)
        return KV_ZADD_NOP;
    double cur = e->v.d;
    if (flags & KV_ZADD_INCR) {
        score += cur;
        if (isnan(score))
            return KV_ZADD_NAN;
    }
    if (((flags & KV_ZADD_LT) && score >= cur) || ((flags & KV_ZADD_GT) && score <= cur))
        return KV_ZADD_NOP;
    *newscore = score;
    if (score == cur)
        return KV_ZADD_SAME;
    kv_zsl_update_score(&zs->zsl, cur, e->key, score);
    e->v.d = score;
    return KV_ZADD_UPDATED;
}

bool kv_zset_remove(struct kv_zset *zs, const struct kv_str *member)
{
    struct kv_dict_entry *e = kv_dict_find(zs->dict, member->data, member->len);
    if (!e)
        return false;
    kv_zsl_delete(&zs->zsl, e->v.d, e->key);
    kv_dict_delete(zs->dict, member->data, member->len);
    return true;
}

void kv_zset_remove_node(struct kv_zset *zs, struct kv_zsl_node *n)
{
    struct kv_str *ele = n->ele;   /* the dict's key: freed last */
    kv_zsl_delete(&zs->zsl, n->score, ele);
    kv_dict_delete(zs->dict, ele->data, ele->len);
}

static struct kv_zset *zset_of(struct kv_obj *o)
{
    return o->ptr;
}

/* ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...];
 * ZINCRBY is ZADD INCR. Every score is parsed before anything changes. */
static void zadd_generic(struct kv_client *c, int flags)
{
    bool ch = false;
    int idx = 2;
    for (; idx < c->argc; idx++) {
        const struct kv_str *a = c->argv[idx];
        if (kv_str_is(a, "nx"))
            flags |= KV_ZADD_NX;
        else if (kv_str_is(a, "xx"))
            flags |= KV_ZADD_XX;
        else if (kv_str_is(a, "ch"))
            ch = true;
        else if (kv_str_is(a, "incr"))
            flags |= KV_ZADD_INCR;
        else if (kv_str_is(a, "gt"))
            flags |= KV_ZADD_GT;
        else if (kv_str_is(a, "lt"))
            flags |= KV_ZADD_LT;
        else
            break;
    }
    int elements = c->argc - idx;
    if (elements % 2 || !elements) {
        kv_reply_syntax_error(c);
        return;
    }
    elements /= 2;
    bool nx = flags & KV_ZADD_NX, xx = flags & KV_ZADD_XX, gt = flags & KV_ZADD_GT,
         lt = flags & KV_ZADD_LT, incr = flags & KV_ZADD_INCR;
    if (nx && xx) {
        kv_reply_error(c, "XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        kv_reply_error(c, "GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && elements > 1) {
        kv_reply_error(c, "INCR option supports a single increment-element pair");
        return;
    }
    double *scores = kv_alloc(sizeof(double) * (size_t)elements);
    for (int j = 0; j < elements; j++)
        if (!kv_arg_double(c, c->argv[idx + j * 2], &scores[j]))
            goto out;
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        goto out;
    int64_t added = 0, updated = 0, processed = 0;
    double score = 0;
    if (!o) {
        if (xx)
            goto reply;
        o = kv_obj_new(KV_ZSET, KV_ENC_SKIPLIST, kv_zset_new());
        kv_db_add(c, c->argv[1], o);
    }
    for (int j = 0; j < elements; j++) {
        double newscore = 0;
        enum kv_zadd_result r =
            kv_zset_add(zset_of(o), scores[j], c->argv[idx + 1 + j * 2], flags, &newscore);
        if (r == KV_ZADD_NAN) {
            kv_reply_error(c, "resulting score is not a number (NaN)");
            goto modified;
        }
        added += r == KV_ZADD_ADDED;
        updated += r == KV_ZADD_UPDATED;
        if (r != KV_ZADD_NOP) {
            processed++;
            score = newscore;
        }
    }
reply:
    if (incr) {
        if (processed)
            kv_reply_double(c, score);
        else
            kv_reply_null(c);
    } else {
        kv_reply_int(c, ch ? added + updated : added);
    }
modified:
    if (added || updated)
        kv_key_modified(c, c->argv[1]);
out:
    kv_free(scores);
}

void kv_cmd_zadd(struct kv_client *c) { zadd_generic(c, 0); }
void kv_cmd_zincrby(struct kv_client *c) { zadd_generic(c, KV_ZADD_INCR); }

void kv_cmd_zrem(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_int(c, 0);
        return;
    }
    int64_t deleted = 0;
    for (int j = 2; j < c->argc; j++) {
        if (kv_zset_remove(zset_of(o), c->argv[j]))
            deleted++;
        if (kv_zset_length(zset_of(o)) == 0) {
            kv_db_delete(c, c->argv[1]);
            break;
        }
    }
    if (deleted)
        kv_key_modified(c, c->argv[1]);
    kv_reply_int(c, deleted);
}

static struct kv_dict_entry *zset_find(struct kv_obj *o, const struct kv_str *m)
{
    return o ? kv_dict_find(zset_of(o)->dict, m->data, m->len) : NULL;
}

void kv_cmd_zscore(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        return;
    struct kv_dict_entry *e = zset_find(o, c->argv[2]);
    if (e)
        kv_reply_double(c, e->v.d);
    else
        kv_reply_null(c);
}

void kv_cmd_zmscore(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        return;
    kv_reply_array(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        struct kv_dict_entry *e = zset_find(o, c->argv[j]);
        if (e)
            kv_reply_double(c, e->v.d);
        else
            kv_reply_null(c);
    }
}

void kv_cmd_zcard(struct kv_client *c)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        return;
    kv_reply_int(c, o ? (int64_t)kv_zset_length(zset_of(o)) : 0);
}

static void zrank_generic(struct kv_client *c, bool rev)
{
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        return;
    struct kv_dict_entry *e = zset_find(o, c->argv[2]);
    if (!e) {
        kv_reply_null(c);
        return;
    }
    const struct kv_zsl *zsl = &zset_of(o)->zsl;
    uint64_t rank = kv_zsl_rank(zsl, e->v.d, e->key);
    kv_reply_int(c, (int64_t)(rev ? zsl->length - rank : rank - 1));
}

void kv_cmd_zrank(struct kv_client *c) { zrank_generic(c, false); }
void kv_cmd_zrevrank(struct kv_client *c) { zrank_generic(c, true); }

/* ZPOPMIN / ZPOPMAX key [count]: a flat array of member, score pairs. */
static void zpop_generic(struct kv_client *c, bool max)
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
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        return;
    if (!o || count == 0) {
        kv_reply_array(c, 0);
        return;
    }
    struct kv_zset *zs = zset_of(o);
    if ((uint64_t)count > kv_zset_length(zs))
        count = (int64_t)kv_zset_length(zs);
    kv_reply_array(c, count * 2);
    for (int64_t i = 0; i < count; i++) {
        struct kv_zsl_node *n = max ? zs->zsl.tail : zs->zsl.header->level[0].forward;
        kv_reply_bulk_str(c, n->ele);
        kv_reply_double(c, n->score);
        kv_zset_remove_node(zs, n);
    }
    if (kv_zset_length(zs) == 0)
        kv_db_delete(c, c->argv[1]);
    kv_key_modified(c, c->argv[1]);
}

void kv_cmd_zpopmin(struct kv_client *c) { zpop_generic(c, false); }
void kv_cmd_zpopmax(struct kv_client *c) { zpop_generic(c, true); }

static void zrandmember_emit(struct kv_client *c, const struct kv_dict_entry *e, bool withscores)
{
    kv_reply_bulk_str(c, e->key);
    if (withscores)
        kv_reply_double(c, e->v.d);
}

/* ZRANDMEMBER key [count [WITHSCORES]]: SRANDMEMBER's rules for counts. */
void kv_cmd_zrandmember(struct kv_client *c)
{
    int64_t l = 0;
    bool withscores = false;
    if (c->argc >= 3) {
        if (!kv_random_count(c, c->argv[2], &l))
            return;
        if (c->argc > 4 || (c->argc == 4 && !kv_str_is(c->argv[3], "withscores"))) {
            kv_reply_syntax_error(c);
            return;
        }
        if (c->argc == 4) {
            withscores = true;
            if (l < -INT64_MAX / 2 || l > INT64_MAX / 2) {
                kv_reply_error(c, "value is out of range");
                return;
            }
        }
    }
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        return;
    if (c->argc == 2) {
        if (!o)
            kv_reply_null(c);
        else
            kv_reply_bulk_str(c, kv_dict_random(zset_of(o)->dict)->key);
        return;
    }
    if (!o || l == 0) {
        kv_reply_array(c, 0);
        return;
    }
    struct kv_dict *d = zset_of(o)->dict;
    uint64_t count = l < 0 ? (uint64_t)-l : (uint64_t)l;
    int per = withscores ? 2 : 1;
    if (l < 0 || count == 1) {
        kv_reply_array(c, (int64_t)count * per);
        while (count--)
            zrandmember_emit(c, kv_dict_random(d), withscores);
        return;
    }
    struct kv_zset *zs = zset_of(o);
    if (count >= kv_zset_length(zs)) {
        kv_reply_array(c, (int64_t)kv_zset_length(zs) * per);
        for (const struct kv_zsl_node *n = zs->zsl.header->level[0].forward; n;
             n = n->level[0].forward) {
            kv_reply_bulk_str(c, n->ele);
            if (withscores)
                kv_reply_double(c, n->score);
        }
        return;
    }
    struct kv_dict *sample = kv_dict_sample_unique(d, count);
    struct kv_dict_iter it;
    struct kv_dict_entry *e;
    kv_reply_array(c, (int64_t)kv_dict_size(sample) * per);
    kv_dict_iter_init(&it, sample);
    while ((e = kv_dict_iter_next(&it)))
        zrandmember_emit(c, e->v.ptr, withscores);
    kv_dict_iter_done(&it);
    kv_dict_free(sample);
}

static void zscan_emit_score(struct kv_client *c, const struct kv_dict_entry *e)
{
    kv_reply_double(c, e->v.d);
}

void kv_cmd_zscan(struct kv_client *c)
{
    if (!kv_scan_cursor_valid(c, c->argv[2]))
        return;
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_empty_scan(c);
        return;
    }
    kv_scan_reply(c, zset_of(o)->dict, 2, zscan_emit_score);
}

#define W KV_CMD_WRITE
#define R KV_CMD_READONLY
#define M KV_CMD_DENYOOM
#define F KV_CMD_FAST
const struct kv_command kv_zset_commands[] = {
    { "zadd", kv_cmd_zadd, -4, W | M | F, 1, 1, 1, "sorted_set",
      "Add one or more members to a sorted set, or update its score if it already exists" },
    { "zincrby", kv_cmd_zincrby, 4, W | M | F, 1, 1, 1, "sorted_set",
      "Increment the score of a member in a sorted set" },
    { "zrem", kv_cmd_zrem, -3, W | F, 1, 1, 1, "sorted_set",
      "Remove one or more members from a sorted set" },
    { "zscore", kv_cmd_zscore, 3, R | F, 1, 1, 1, "sorted_set",
      "Get the score associated with the given member in a sorted set" },
    { "zmscore", kv_cmd_zmscore, -3, R | F, 1, 1, 1, "sorted_set",
      "Get the score associated with the given members in a sorted set" },
    { "zcard", kv_cmd_zcard, 2, R | F, 1, 1, 1, "sorted_set",
      "Get the number of members in a sorted set" },
    { "zcount", kv_cmd_zcount, 4, R | F, 1, 1, 1, "sorted_set",
      "Count the members in a sorted set with scores within the given values" },
    { "zlexcount", kv_cmd_zlexcount, 4, R | F, 1, 1, 1, "sorted_set",
      "Count the number of members in a sorted set between a given lexicographical range" },
    { "zrank", kv_cmd_zrank, 3, R | F, 1, 1, 1, "sorted_set",
      "Determine the index of a member in a sorted set" },
    { "zrevrank", kv_cmd_zrevrank, 3, R | F, 1, 1, 1, "sorted_set",
      "Determine the index of a member in a sorted set, with scores ordered from high to low" },
    { "zrange", kv_cmd_zrange, -4, R, 1, 1, 1, "sorted_set",
      "Return a range of members in a sorted set" },
    { "zrevrange", kv_cmd_zrevrange, -4, R, 1, 1, 1, "sorted_set",
      "Return a range of members in a sorted set, by index, with scores ordered from high to low" },
    { "zrangebyscore", kv_cmd_zrangebyscore, -4, R, 1, 1, 1, "sorted_set",
      "Return a range of members in a sorted set, by score" },
    { "zrevrangebyscore", kv_cmd_zrevrangebyscore, -4, R, 1, 1, 1, "sorted_set",
      "Return a range of members in a sorted set, by score, with scores ordered from high to low" },
    { "zrangebylex", kv_cmd_zrangebylex, -4, R, 1, 1, 1, "sorted_set",
      "Return a range of members in a sorted set, by lexicographical range" },
    { "zrevrangebylex", kv_cmd_zrevrangebylex, -4, R, 1, 1, 1, "sorted_set",
      "Return a range of members in a sorted set, by lexicographical range, ordered from higher "
      "to lower strings." },
    { "zpopmin", kv_cmd_zpopmin, -2, W | F, 1, 1, 1, "sorted_set",
      "Remove and return members with the lowest scores in a sorted set" },
    { "zpopmax", kv_cmd_zpopmax, -2, W | F, 1, 1, 1, "sorted_set",
      "Remove and return members with the highest scores in a sorted set" },
    { "zremrangebyrank", kv_cmd_zremrangebyrank, 4, W, 1, 1, 1, "sorted_set",
      "Remove all members in a sorted set within the given indexes" },
    { "zremrangebyscore", kv_cmd_zremrangebyscore, 4, W, 1, 1, 1, "sorted_set",
      "Remove all members in a sorted set within the given scores" },
    { "zremrangebylex", kv_cmd_zremrangebylex, 4, W, 1, 1, 1, "sorted_set",
      "Remove all members in a sorted set between the given lexicographical range" },
    { "zunionstore", kv_cmd_zunionstore, -4, W | M, 1, 1, 1, "sorted_set",
      "Add multiple sorted sets and store the resulting sorted set in a new key" },
    { "zinterstore", kv_cmd_zinterstore, -4, W | M, 1, 1, 1, "sorted_set",
      "Intersect multiple sorted sets and store the resulting sorted set in a new key" },
    { "zrandmember", kv_cmd_zrandmember, -2, R, 1, 1, 1, "sorted_set",
      "Get one or multiple random elements from a sorted set" },
    { "zscan", kv_cmd_zscan, -3, R, 1, 1, 1, "sorted_set",
      "Incrementally iterate sorted sets elements and associated scores" },
    { .name = NULL },
};
