/* The sorted set's skiplist (Redis's zsl*): nodes ordered by score, then by
 * member bytes; each level's span counts the nodes it jumps, so a rank is
 * the sum of the spans walked. */
#include "t_zset.h"

/* Levels need no secrecy, only a geometric distribution (p = 1/4, as
 * Redis's ZSKIPLIST_P). A fixed xorshift keeps the sources free of libc's
 * random(), which the enclave lacks. */
static uint64_t zsl_rng_state = 0x9e3779b97f4a7c15ULL;

static int zsl_random_level(void)
{
    int level = 1;
    for (;;) {
        uint64_t x = zsl_rng_state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        zsl_rng_state = x;
        if ((x & 0xFFFF) >= 0xFFFF / 4 || level >= KV_ZSL_MAXLEVEL)
            return level;
        level++;
    }
}

static struct kv_zsl_node *zsl_node_new(int level, double score, struct kv_str *ele)
{
    struct kv_zsl_node *n =
        kv_calloc(sizeof(*n) + (size_t)level * sizeof(struct kv_zsl_level));
    n->score = score;
    n->ele = ele;
    return n;
}

void kv_zsl_init(struct kv_zsl *zsl)
{
    zsl->level = 1;
    zsl->length = 0;
    zsl->header = zsl_node_new(KV_ZSL_MAXLEVEL, 0, NULL);
    zsl->tail = NULL;
}

void kv_zsl_free_nodes(struct kv_zsl *zsl)
{
    struct kv_zsl_node *n = zsl->header->level[0].forward;
    kv_free(zsl->header);
    while (n) {
        struct kv_zsl_node *next = n->level[0].forward;
        kv_free(n);
        n = next;
    }
    zsl->header = zsl->tail = NULL;
    zsl->length = 0;
}

/* (score, ele) sorts before node x? */
static bool zsl_before(const struct kv_zsl_node *x, double score, const struct kv_str *ele)
{
    return x->score < score || (x->score == score && kv_str_cmp(x->ele, ele) < 0);
}

struct kv_zsl_node *kv_zsl_insert(struct kv_zsl *zsl, double score, struct kv_str *ele)
{
    struct kv_zsl_node *update[KV_ZSL_MAXLEVEL], *x = zsl->header;
    uint64_t rank[KV_ZSL_MAXLEVEL];

    for (int i = zsl->level - 1; i >= 0; i--) {
        rank[i] = i == zsl->level - 1 ? 0 : rank[i + 1];
        while (x->level[i].forward && zsl_before(x->level[i].forward, score, ele)) {
            rank[i] += x->level[i].span;
            x = x->level[i].forward;
        }
        update[i] = x;
    }
    int level = zsl_random_level();
    if (level > zsl->level) {
        for (int i = zsl->level; i < level; i++) {
            rank[i] = 0;
            update[i] = zsl->header;
            update[i]->level[i].span = zsl->length;
        }
        zsl->level = level;
    }
    x = zsl_node_new(level, score, ele);
    for (int i = 0; i < level; i++) {
        x->level[i].forward = update[i]->level[i].forward;
        update[i]->level[i].forward = x;
        x->level[i].span = update[i]->level[i].span - (rank[0] - rank[i]);
        update[i]->level[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = level; i < zsl->level; i++)
        update[i]->level[i].span++;
    x->backward = update[0] == zsl->header ? NULL : update[0];
    if (x->level[0].forward)
        x->level[0].forward->backward = x;
    else
        zsl->tail = x;
    zsl->length++;
    return x;
}

static void zsl_unlink(struct kv_zsl *zsl, struct kv_zsl_node *x, struct kv_zsl_node **update)
{
    for (int i = 0; i < zsl->level; i++) {
        if (update[i]->level[i].forward == x) {
            update[i]->level[i].span += x->level[i].span - 1;
            update[i]->level[i].forward = x->level[i].forward;
        } else {
            update[i]->level[i].span -= 1;
        }
    }
    if (x->level[0].forward)
        x->level[0].forward->backward = x->backward;
    else
        zsl->tail = x->backward;
    while (zsl->level > 1 && zsl->header->level[zsl->level - 1].forward == NULL)
        zsl->level--;
    zsl->length--;
}

/* The update[] path to (score, ele); returns the node there if it matches. */
static struct kv_zsl_node *zsl_find(const struct kv_zsl *zsl, double score,
                                    const struct kv_str *ele, struct kv_zsl_node **update)
{
    struct kv_zsl_node *x = zsl->header;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && zsl_before(x->level[i].forward, score, ele))
            x = x->level[i].forward;
        update[i] = x;
    }
    x = x->level[0].forward;
    if (x && x->score == score && kv_str_eq(x->ele, ele))
        return x;
    return NULL;
}

bool kv_zsl_delete(struct kv_zsl *zsl, double score, const struct kv_str *ele)
{
    struct kv_zsl_node *update[KV_ZSL_MAXLEVEL];
    struct kv_zsl_node *x = zsl_find(zsl, score, ele, update);
    if (!x)
        return false;
    zsl_unlink(zsl, x, update);
    kv_free(x);
    return true;
}

struct kv_zsl_node *kv_zsl_update_score(struct kv_zsl *zsl, double cur, const struct kv_str *ele,
                                        double score)
{
    struct kv_zsl_node *update[KV_ZSL_MAXLEVEL];
    struct kv_zsl_node *x = zsl_find(zsl, cur, ele, update);
    if (!x)
        return NULL;
    /* Still between its neighbours: change the score in place. */
    if ((x->backward == NULL || x->backward->score < score) &&
        (x->level[0].forward == NULL || x->level[0].forward->score > score)) {
        x->score = score;
        return x;
    }
    struct kv_str *member = x->ele;
    zsl_unlink(zsl, x, update);
    kv_free(x);
    return kv_zsl_insert(zsl, score, member);
}

uint64_t kv_zsl_rank(const struct kv_zsl *zsl, double score, const struct kv_str *ele)
{
    const struct kv_zsl_node *x = zsl->header;
    uint64_t rank = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward &&
               (x->level[i].forward->score < score ||
                (x->level[i].forward->score == score &&
                 kv_str_cmp(x->level[i].forward->ele, ele) <= 0))) {
            rank += x->level[i].span;
            x = x->level[i].forward;
        }
        if (x->ele && x->score == score && kv_str_eq(x->ele, ele))
            return rank;
    }
    return 0;
}

struct kv_zsl_node *kv_zsl_by_rank(const struct kv_zsl *zsl, uint64_t rank)
{
    struct kv_zsl_node *x = zsl->header;
    uint64_t traversed = 0;
    for (int i = zsl->level - 1; i >= 0; i--) {
        while (x->level[i].forward && traversed + x->level[i].span <= rank) {
            traversed += x->level[i].span;
            x = x->level[i].forward;
        }
        if (traversed == rank)
            return x == zsl->header ? NULL : x;
    }
    return NULL;
}

bool kv_zrange_score_gte_min(double v, const struct kv_zrange_score *r)
{
    return r->minex ? v > r->min : v >= r->min;
}

bool kv_zrange_score_lte_max(double v, const struct kv_zrange_score *r)
{
    return r->maxex ? v < r->max : v <= r->max;
}

static bool zsl_score_range_empty(const struct kv_zrange_score *r)
{
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}

static bool zsl_in_score_range(const struct kv_zsl *zsl, const struct kv_zrange_score *r)
{
    if (zsl_score_range_empty(r) || !zsl->tail)
        return false;
    if (!kv_zrange_score_gte_min(zsl->tail->score, r))
        return false;
    const struct kv_zsl_node *first = zsl->header->level[0].forward;
    return first && kv_zrange_score_lte_max(first->score, r);
}

struct kv_zsl_node *kv_zsl_first_in_score(const struct kv_zsl *zsl, const struct kv_zrange_score *r)
{
    if (!zsl_in_score_range(zsl, r))
        return NULL;
    struct kv_zsl_node *x = zsl->header;
    for (int i = zsl->level - 1; i >= 0; i--)
        while (x->level[i].forward && !kv_zrange_score_gte_min(x->level[i].forward->score, r))
            x = x->level[i].forward;
    x = x->level[0].forward;
    return x && kv_zrange_score_lte_max(x->score, r) ? x : NULL;
}

struct kv_zsl_node *kv_zsl_last_in_score(const struct kv_zsl *zsl, const struct kv_zrange_score *r)
{
    if (!zsl_in_score_range(zsl, r))
        return NULL;
    struct kv_zsl_node *x = zsl->header;
    for (int i = zsl->level - 1; i >= 0; i--)
        while (x->level[i].forward && kv_zrange_score_lte_max(x->level[i].forward->score, r))
            x = x->level[i].forward;
    return x != zsl->header && kv_zrange_score_gte_min(x->score, r) ? x : NULL;
}

/* Lex bounds: "-" is below and "+" above every member. */
static int zsl_lex_cmp_bound(const struct kv_str *v, const struct kv_str *bound, int inf)
{
    if (inf)
        return -inf;
    return kv_str_cmp(v, bound);
}

bool kv_zrange_lex_gte_min(const struct kv_str *v, const struct kv_zrange_lex *r)
{
    int cmp = zsl_lex_cmp_bound(v, r->min, r->min_inf);
    return r->minex ? cmp > 0 : cmp >= 0;
}

bool kv_zrange_lex_lte_max(const struct kv_str *v, const struct kv_zrange_lex *r)
{
    int cmp = zsl_lex_cmp_bound(v, r->max, r->max_inf);
    return r->maxex ? cmp < 0 : cmp <= 0;
}

static bool zsl_lex_range_empty(const struct kv_zrange_lex *r)
{
    /* Redis's sdscmplex of the two bounds */
    int cmp;
    if (r->min_inf && r->min_inf == r->max_inf)
        cmp = 0;
    else if (r->min_inf == -1 || r->max_inf == 1)
        cmp = -1;
    else if (r->min_inf == 1 || r->max_inf == -1)
        cmp = 1;
    else
        cmp = kv_str_cmp(r->min, r->max);
    return cmp > 0 || (cmp == 0 && (r->minex || r->maxex));
}

static bool zsl_in_lex_range(const struct kv_zsl *zsl, const struct kv_zrange_lex *r)
{
    if (zsl_lex_range_empty(r) || !zsl->tail)
        return false;
    if (!kv_zrange_lex_gte_min(zsl->tail->ele, r))
        return false;
    const struct kv_zsl_node *first = zsl->header->level[0].forward;
    return first && kv_zrange_lex_lte_max(first->ele, r);
}

struct kv_zsl_node *kv_zsl_first_in_lex(const struct kv_zsl *zsl, const struct kv_zrange_lex *r)
{
    if (!zsl_in_lex_range(zsl, r))
        return NULL;
    struct kv_zsl_node *x = zsl->header;
    for (int i = zsl->level - 1; i >= 0; i--)
        while (x->level[i].forward && !kv_zrange_lex_gte_min(x->level[i].forward->ele, r))
            x = x->level[i].forward;
    x = x->level[0].forward;
    return x && kv_zrange_lex_lte_max(x->ele, r) ? x : NULL;
}

struct kv_zsl_node *kv_zsl_last_in_lex(const struct kv_zsl *zsl, const struct kv_zrange_lex *r)
{
    if (!zsl_in_lex_range(zsl, r))
        return NULL;
    struct kv_zsl_node *x = zsl->header;
    for (int i = zsl->level - 1; i >= 0; i--)
        while (x->level[i].forward && kv_zrange_lex_lte_max(x->level[i].forward->ele, r))
            x = x->level[i].forward;
    return x != zsl->header && kv_zrange_lex_gte_min(x->ele, r) ? x : NULL;
}
