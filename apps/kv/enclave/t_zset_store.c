/* ZUNIONSTORE / ZINTERSTORE dst numkeys key [key ...] [WEIGHTS w ...]
 * [AGGREGATE SUM|MIN|MAX] (Redis's zunionInterDiffGenericCommand): inputs
 * may be sorted sets or sets (score 1); a missing key is empty. */
#include <math.h>

#include "t_set.h"
#include "t_zset.h"

static const struct kv_dict_type zstore_acc_type = { .value_free = NULL };

enum zstore_aggr { ZSTORE_SUM, ZSTORE_MIN, ZSTORE_MAX };

struct zstore_src {
    struct kv_obj *o;      /* NULL: missing */
    double weight;
};

static uint64_t zstore_src_len(const struct zstore_src *s)
{
    if (!s->o)
        return 0;
    if (s->o->type == KV_SET)
        return kv_dict_size(s->o->ptr);
    return kv_zset_length(s->o->ptr);
}

/* The source's score for member, false when absent. */
static bool zstore_src_find(const struct zstore_src *s, const struct kv_str *m, double *score)
{
    struct kv_dict *d = s->o->type == KV_SET ? s->o->ptr : ((struct kv_zset *)s->o->ptr)->dict;
    struct kv_dict_entry *e = kv_dict_find(d, m->data, m->len);
    if (!e)
        return false;
    *score = s->o->type == KV_SET ? 1.0 : e->v.d;
    return true;
}

static void zstore_aggregate(double *target, double val, enum zstore_aggr aggr)
{
    if (aggr == ZSTORE_SUM) {
        *target = *target + val;
        /* inf + -inf: Redis makes it 0 rather than keep a NaN */
        if (isnan(*target))
            *target = 0.0;
    } else if (aggr == ZSTORE_MIN) {
        *target = val < *target ? val : *target;
    } else {
        *target = val > *target ? val : *target;
    }
}

/* Walks a source in its order (zset: by score; set: dict order). */
typedef void (*zstore_visit)(void *arg, const struct kv_str *m, double score);

static void zstore_src_each(const struct zstore_src *s, zstore_visit fn, void *arg)
{
    if (s->o->type == KV_SET) {
        struct kv_dict_iter it;
        struct kv_dict_entry *e;
        kv_dict_iter_init(&it, s->o->ptr);
        while ((e = kv_dict_iter_next(&it)))
            fn(arg, e->key, 1.0);
        kv_dict_iter_done(&it);
        return;
    }
    const struct kv_zset *zs = s->o->ptr;
    for (const struct kv_zsl_node *n = zs->zsl.header->level[0].forward; n;
         n = n->level[0].forward)
        fn(arg, n->ele, n->score);
}

struct zstore_ctx {
    struct zstore_src *src;
    int n;
    int current;
    enum zstore_aggr aggr;
    struct kv_dict *acc;   /* union: member -> score (v.d) */
    struct kv_zset *dst;
};

static void zstore_union_visit(void *arg, const struct kv_str *m, double score)
{
    struct zstore_ctx *x = arg;
    double v = x->src[x->current].weight * score;
    if (isnan(v))
        v = 0;
    struct kv_dict_entry *existing = NULL;
    struct kv_dict_entry *e = kv_dict_add(x->acc, m->data, m->len, &existing);
    if (e)
        e->v.d = v;
    else
        zstore_aggregate(&existing->v.d, v, x->aggr);
}

static void zstore_inter_visit(void *arg, const struct kv_str *m, double score)
{
    struct zstore_ctx *x = arg;
    double v = x->src[0].weight * score;
    if (isnan(v))
        v = 0;
    for (int j = 1; j < x->n; j++) {
        double other;
        if (x->src[j].o == x->src[0].o)
            other = score;
        else if (!zstore_src_find(&x->src[j], m, &other))
            return;
        zstore_aggregate(&v, other * x->src[j].weight, x->aggr);
    }
    kv_zset_add(x->dst, v, m, 0, &(double){ 0 });
}

static void zstore_generic(struct kv_client *c, bool inter)
{
    const struct kv_str *dst = c->argv[1];
    int64_t setnum;
    if (!kv_arg_int64(c, c->argv[2], &setnum))
        return;
    if (setnum < 1) {
        kv_reply_errorf(c, "at least 1 input key is needed for '%s' command",
                        inter ? "zinterstore" : "zunionstore");
        return;
    }
    if (setnum > c->argc - 3) {
        kv_reply_syntax_error(c);
        return;
    }
    int n = (int)setnum;
    struct zstore_src *src = kv_calloc(sizeof(*src) * (size_t)n);
    int j = 3;
    for (int i = 0; i < n; i++, j++) {
        struct kv_obj *o = kv_db_lookup_read(c, c->argv[j]);
        if (o && o->type != KV_ZSET && o->type != KV_SET) {
            kv_reply_wrongtype(c);
            goto out;
        }
        src[i].o = o;
        src[i].weight = 1.0;
    }
    enum zstore_aggr aggr = ZSTORE_SUM;
    while (j < c->argc) {
        int remaining = c->argc - j;
        if (remaining >= n + 1 && kv_str_is(c->argv[j], "weights")) {
            j++;
            for (int i = 0; i < n; i++, j++) {
                double w;
                if (!kv_str_to_double(c->argv[j], &w)) {
                    kv_reply_error(c, "weight value is not a float");
                    goto out;
                }
                src[i].weight = w;
            }
        } else if (remaining >= 2 && kv_str_is(c->argv[j], "aggregate")) {
            j++;
            if (kv_str_is(c->argv[j], "sum"))
                aggr = ZSTORE_SUM;
            else if (kv_str_is(c->argv[j], "min"))
                aggr = ZSTORE_MIN;
            else if (kv_str_is(c->argv[j], "max"))
                aggr = ZSTORE_MAX;
            else {
                kv_reply_syntax_error(c);
                goto out;
            }
            j++;
        } else {
            kv_reply_syntax_error(c);
            goto out;
        }
    }
    /* smallest first, as Redis (a stable sort: the order decides how float
     * sums round) */
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && zstore_src_len(&src[k]) < zstore_src_len(&src[k - 1]); k--) {
            struct zstore_src t = src[k];
            src[k] = src[k - 1];
            src[k - 1] = t;
        }
    struct zstore_ctx x = { .src = src, .n = n, .aggr = aggr, .dst = kv_zset_new() };
    if (inter) {
        if (src[0].o && zstore_src_len(&src[0]) > 0)
            zstore_src_each(&src[0], zstore_inter_visit, &x);
    } else {
        x.acc = kv_dict_new(&zstore_acc_type);
        for (x.current = 0; x.current < n; x.current++)
            if (zstore_src_len(&src[x.current]) > 0)
                zstore_src_each(&src[x.current], zstore_union_visit, &x);
        struct kv_dict_iter it;
        struct kv_dict_entry *e;
        kv_dict_iter_init(&it, x.acc);
        while ((e = kv_dict_iter_next(&it)))
            kv_zset_add(x.dst, e->v.d, e->key, 0, &(double){ 0 });
        kv_dict_iter_done(&it);
        kv_dict_free(x.acc);
    }
    int64_t len = (int64_t)kv_zset_length(x.dst);
    if (len) {
        kv_db_set(c, dst, kv_obj_new(KV_ZSET, KV_ENC_SKIPLIST, x.dst), false);
        kv_key_modified(c, dst);
    } else {
        kv_zset_free(x.dst);
        if (kv_db_delete(c, dst))
            kv_key_modified(c, dst);
    }
    kv_reply_int(c, len);
out:
    kv_free(src);
}

void kv_cmd_zunionstore(struct kv_client *c) { zstore_generic(c, false); }
void kv_cmd_zinterstore(struct kv_client *c) { zstore_generic(c, true); }
