/* Sorted-set ranges: parsing score and lex intervals (Redis's zslParseRange
 * and zslParseLexRange, strtod's rules included), and the commands that walk
 * a range: ZRANGE and its older forms, ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*. */
#include <math.h>
#include <stdlib.h>

#include "t_zset.h"

static bool zrange_parse_score_item(const struct kv_str *s, double *v, bool *ex)
{
    const char *p = s->data;
    char *end;
    *ex = p[0] == '(';
    if (*ex)
        p++;
    *v = strtod(p, &end);
    return end[0] == '\0' && !isnan(*v);
}

bool kv_zrange_parse_score(const struct kv_str *min, const struct kv_str *max,
                           struct kv_zrange_score *r)
{
    return zrange_parse_score_item(min, &r->min, &r->minex) &&
           zrange_parse_score_item(max, &r->max, &r->maxex);
}

/* An item keeps pointing into the argument: "[a" -> "a" needs a copy, made
 * by the caller's lifetime (kv_zrange_lex_free). */
static bool zrange_parse_lex_item(const struct kv_str *s, const struct kv_str **v, int *inf,
                                  bool *ex)
{
    *v = NULL;
    *inf = 0;
    switch (s->data[0]) {
    case '+':
    case '-':
        if (s->data[1] != '\0')
            return false;
        *ex = true;
        *inf = s->data[0] == '+' ? 1 : -1;
        return true;
    case '(':
    case '[':
        if (s->len == 0)
            return false;
        *ex = s->data[0] == '(';
        *v = kv_str_new(s->data + 1, s->len - 1);
        return true;
    default:
        return false;
    }
}

static void zrange_lex_free(struct kv_zrange_lex *r)
{
    kv_str_free((struct kv_str *)r->min);
    kv_str_free((struct kv_str *)r->max);
    r->min = r->max = NULL;
}

bool kv_zrange_parse_lex(const struct kv_str *min, const struct kv_str *max,
                         struct kv_zrange_lex *r)
{
    r->min = r->max = NULL;
    if (zrange_parse_lex_item(min, &r->min, &r->min_inf, &r->minex) &&
        zrange_parse_lex_item(max, &r->max, &r->max_inf, &r->maxex))
        return true;
    zrange_lex_free(r);
    return false;
}

static void zrange_lex_cleanup(struct kv_zrange_lex *r)
{
    zrange_lex_free(r);
}

static struct kv_zset *zset_of(struct kv_obj *o)
{
    return o->ptr;
}

/* ---- ZRANGE and friends (Redis's zrangeGenericCommand). */

struct zrange_emit {
    struct kv_client *c;
    bool withscores;
    int64_t count;
};

static void zrange_emit_node(struct zrange_emit *e, const struct kv_zsl_node *n)
{
    kv_reply_bulk_str(e->c, n->ele);
    if (e->withscores)
        kv_reply_double(e->c, n->score);
    e->count++;
}

static struct kv_zsl_node *zrange_step(struct kv_zsl_node *n, bool rev)
{
    return rev ? n->backward : n->level[0].forward;
}

static void zrange_by_rank(struct kv_client *c, struct kv_zset *zs, int64_t start, int64_t end,
                           bool rev, bool withscores)
{
    int64_t llen = (int64_t)zs->zsl.length;
    if (!kv_rank_range(llen, &start, &end)) {
        kv_reply_array(c, 0);
        return;
    }
    int64_t rangelen = end - start + 1;
    kv_reply_array(c, withscores ? rangelen * 2 : rangelen);
    struct kv_zsl_node *n;
    if (rev)
        n = start > 0 ? kv_zsl_by_rank(&zs->zsl, (uint64_t)(llen - start)) : zs->zsl.tail;
    else
        n = start > 0 ? kv_zsl_by_rank(&zs->zsl, (uint64_t)start + 1)
                      : zs->zsl.header->level[0].forward;
    struct zrange_emit e = { c, withscores, 0 };
    while (rangelen-- > 0 && n) {
        zrange_emit_node(&e, n);
        n = zrange_step(n, rev);
    }
}

static void zrange_by_score(struct kv_client *c, struct kv_zset *zs,
                            const struct kv_zrange_score *r, bool rev, bool withscores,
                            int64_t offset, int64_t limit)
{
    if (offset > 0 && offset >= (int64_t)zs->zsl.length) {
        kv_reply_array(c, 0);
        return;
    }
    void *len = kv_reply_deferred_len(c);
    struct kv_zsl_node *n = rev ? kv_zsl_last_in_score(&zs->zsl, r)
                                : kv_zsl_first_in_score(&zs->zsl, r);
    /* a negative offset never reaches 0: Redis walks off the end */
    while (n && offset--)
        n = zrange_step(n, rev);
    struct zrange_emit e = { c, withscores, 0 };
    while (n && limit--) {
        if (rev ? !kv_zrange_score_gte_min(n->score, r) : !kv_zrange_score_lte_max(n->score, r))
            break;
        zrange_emit_node(&e, n);
        n = zrange_step(n, rev);
    }
    kv_reply_set_deferred_len(c, len, withscores ? e.count * 2 : e.count);
}

static void zrange_by_lex(struct kv_client *c, struct kv_zset *zs, const struct kv_zrange_lex *r,
                          bool rev, int64_t offset, int64_t limit)
{
    if (offset > 0 && offset >= (int64_t)zs->zsl.length) {
        kv_reply_array(c, 0);
        return;
    }
    void *len = kv_reply_deferred_len(c);
    struct kv_zsl_node *n = rev ? kv_zsl_last_in_lex(&zs->zsl, r) : kv_zsl_first_in_lex(&zs->zsl, r);
    while (n && offset--)
        n = zrange_step(n, rev);
    struct zrange_emit e = { c, false, 0 };
    while (n && limit--) {
        if (rev ? !kv_zrange_lex_gte_min(n->ele, r) : !kv_zrange_lex_lte_max(n->ele, r))
            break;
        zrange_emit_node(&e, n);
        n = zrange_step(n, rev);
    }
    kv_reply_set_deferred_len(c, len, e.count);
}

/* by: fixed by the command, or -1 (ZRANGE: BYSCORE/BYLEX options); rev:
 * 0 forward, 1 reverse, -1 (ZRANGE: the REV option). */
static void zrange_generic(struct kv_client *c, int by, int rev)
{
    bool withscores = false;
    int64_t offset = 0, limit = -1;
    for (int j = 4; j < c->argc; j++) {
        int left = c->argc - j - 1;
        const struct kv_str *a = c->argv[j];
        if (kv_str_is(a, "withscores")) {
            withscores = true;
        } else if (kv_str_is(a, "limit") && left >= 2) {
            if (!kv_arg_int64(c, c->argv[j + 1], &offset) ||
                !kv_arg_int64(c, c->argv[j + 2], &limit))
                return;
            j += 2;
        } else if (rev == -1 && kv_str_is(a, "rev")) {
            rev = 1;
        } else if (by == -1 && kv_str_is(a, "bylex")) {
            by = KV_ZRANGE_LEX;
        } else if (by == -1 && kv_str_is(a, "byscore")) {
            by = KV_ZRANGE_SCORE;
        } else {
            kv_reply_syntax_error(c);
            return;
        }
    }
    if (rev == -1)
        rev = 0;
    if (by == -1)
        by = KV_ZRANGE_RANK;
    if (limit != -1 && by == KV_ZRANGE_RANK) {
        kv_reply_error(c, "syntax error, LIMIT is only supported in combination with either "
                          "BYSCORE or BYLEX");
        return;
    }
    if (withscores && by == KV_ZRANGE_LEX) {
        kv_reply_error(c, "syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    /* BYSCORE and BYLEX reversed take [max, min] */
    const struct kv_str *min = c->argv[2], *max = c->argv[3];
    if (rev && by != KV_ZRANGE_RANK) {
        min = c->argv[3];
        max = c->argv[2];
    }
    int64_t start = 0, end = 0;
    struct kv_zrange_score sr;
    __attribute__((cleanup(zrange_lex_cleanup))) struct kv_zrange_lex lr = { 0 };
    switch (by) {
    case KV_ZRANGE_RANK:
        if (!kv_arg_int64(c, min, &start) || !kv_arg_int64(c, max, &end))
            return;
        break;
    case KV_ZRANGE_SCORE:
        if (!kv_zrange_parse_score(min, max, &sr)) {
            kv_reply_error(c, KV_ZERR_MINMAX_FLOAT);
            return;
        }
        break;
    default:
        if (!kv_zrange_parse_lex(min, max, &lr)) {
            kv_reply_error(c, KV_ZERR_MINMAX_LEX);
            return;
        }
        break;
    }
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_array(c, 0);
        return;
    }
    if (by == KV_ZRANGE_RANK)
        zrange_by_rank(c, zset_of(o), start, end, rev, withscores);
    else if (by == KV_ZRANGE_SCORE)
        zrange_by_score(c, zset_of(o), &sr, rev, withscores, offset, limit);
    else
        zrange_by_lex(c, zset_of(o), &lr, rev, offset, limit);
}

void kv_cmd_zrange(struct kv_client *c) { zrange_generic(c, -1, -1); }
void kv_cmd_zrevrange(struct kv_client *c) { zrange_generic(c, KV_ZRANGE_RANK, 1); }
void kv_cmd_zrangebyscore(struct kv_client *c) { zrange_generic(c, KV_ZRANGE_SCORE, 0); }
void kv_cmd_zrevrangebyscore(struct kv_client *c) { zrange_generic(c, KV_ZRANGE_SCORE, 1); }
void kv_cmd_zrangebylex(struct kv_client *c) { zrange_generic(c, KV_ZRANGE_LEX, 0); }
void kv_cmd_zrevrangebylex(struct kv_client *c) { zrange_generic(c, KV_ZRANGE_LEX, 1); }

/* ---- Counting a range: ranks of its two ends. */

static int64_t zcount_between(const struct kv_zsl *zsl, const struct kv_zsl_node *first,
                              const struct kv_zsl_node *last)
{
    if (!first)
        return 0;
    uint64_t rank = kv_zsl_rank(zsl, first->score, first->ele);
    int64_t count = (int64_t)(zsl->length - (rank - 1));
    if (last) {
        rank = kv_zsl_rank(zsl, last->score, last->ele);
        count -= (int64_t)(zsl->length - rank);
    }
    return count;
}

void kv_cmd_zcount(struct kv_client *c)
{
    struct kv_zrange_score r;
    if (!kv_zrange_parse_score(c->argv[2], c->argv[3], &r)) {
        kv_reply_error(c, KV_ZERR_MINMAX_FLOAT);
        return;
    }
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_int(c, 0);
        return;
    }
    const struct kv_zsl *zsl = &zset_of(o)->zsl;
    kv_reply_int(c, zcount_between(zsl, kv_zsl_first_in_score(zsl, &r),
                                   kv_zsl_last_in_score(zsl, &r)));
}

void kv_cmd_zlexcount(struct kv_client *c)
{
    __attribute__((cleanup(zrange_lex_cleanup))) struct kv_zrange_lex r = { 0 };
    if (!kv_zrange_parse_lex(c->argv[2], c->argv[3], &r)) {
        kv_reply_error(c, KV_ZERR_MINMAX_LEX);
        return;
    }
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_read_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_int(c, 0);
        return;
    }
    const struct kv_zsl *zsl = &zset_of(o)->zsl;
    kv_reply_int(c, zcount_between(zsl, kv_zsl_first_in_lex(zsl, &r), kv_zsl_last_in_lex(zsl, &r)));
}

/* ---- ZREMRANGEBYRANK / BYSCORE / BYLEX. */

static void zremrange_generic(struct kv_client *c, enum kv_zrange_by by)
{
    int64_t start = 0, end = 0;
    struct kv_zrange_score sr;
    __attribute__((cleanup(zrange_lex_cleanup))) struct kv_zrange_lex lr = { 0 };
    if (by == KV_ZRANGE_RANK) {
        if (!kv_arg_int64(c, c->argv[2], &start) || !kv_arg_int64(c, c->argv[3], &end))
            return;
    } else if (by == KV_ZRANGE_SCORE) {
        if (!kv_zrange_parse_score(c->argv[2], c->argv[3], &sr)) {
            kv_reply_error(c, KV_ZERR_MINMAX_FLOAT);
            return;
        }
    } else if (!kv_zrange_parse_lex(c->argv[2], c->argv[3], &lr)) {
        kv_reply_error(c, KV_ZERR_MINMAX_LEX);
        return;
    }
    bool replied = false;
    struct kv_obj *o = kv_db_lookup_write_type(c, c->argv[1], KV_ZSET, &replied);
    if (replied)
        return;
    if (!o) {
        kv_reply_int(c, 0);
        return;
    }
    struct kv_zset *zs = zset_of(o);
    struct kv_zsl_node *n = NULL;
    int64_t todo = -1;   /* nodes to remove by rank; -1: while in range */
    if (by == KV_ZRANGE_RANK) {
        if (!kv_rank_range((int64_t)zs->zsl.length, &start, &end)) {
            kv_reply_int(c, 0);
            return;
        }
        n = kv_zsl_by_rank(&zs->zsl, (uint64_t)start + 1);
        todo = end - start + 1;
    } else if (by == KV_ZRANGE_SCORE) {
        n = kv_zsl_first_in_score(&zs->zsl, &sr);
    } else {
        n = kv_zsl_first_in_lex(&zs->zsl, &lr);
    }
    int64_t removed = 0;
    while (n) {
        if (todo >= 0 ? removed >= todo
                      : (by == KV_ZRANGE_SCORE ? !kv_zrange_score_lte_max(n->score, &sr)
                                               : !kv_zrange_lex_lte_max(n->ele, &lr)))
            break;
        struct kv_zsl_node *next = n->level[0].forward;
        kv_zset_remove_node(zs, n);
        removed++;
        n = next;
    }
    if (removed) {
        if (kv_zset_length(zs) == 0)
            kv_db_delete(c, c->argv[1]);
        kv_key_modified(c, c->argv[1]);
    }
    kv_reply_int(c, removed);
}

void kv_cmd_zremrangebyrank(struct kv_client *c) { zremrange_generic(c, KV_ZRANGE_RANK); }
void kv_cmd_zremrangebyscore(struct kv_client *c) { zremrange_generic(c, KV_ZRANGE_SCORE); }
void kv_cmd_zremrangebylex(struct kv_client *c) { zremrange_generic(c, KV_ZRANGE_LEX); }
