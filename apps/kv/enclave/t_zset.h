/* Sorted sets, shared by t_zset*.c (Redis's t_zset.c split by concern):
 * a skiplist with spans ordered by (score, member) for ranks and ranges, and
 * a kv_dict member -> score (v.d) for O(1) lookups. The skiplist's nodes point
 * at the dict's keys: the dict owns every member once. */
#ifndef KV_T_ZSET_H
#define KV_T_ZSET_H

#include "kv.h"

#define KV_ZSL_MAXLEVEL 32

struct kv_zsl_node {
    struct kv_str *ele;          /* the dict entry's key (not owned) */
    double score;
    struct kv_zsl_node *backward;
    struct kv_zsl_level {
        struct kv_zsl_node *forward;
        uint64_t span;           /* nodes skipped: what makes ranks O(log n) */
    } level[];
};

struct kv_zsl {
    struct kv_zsl_node *header, *tail;
    uint64_t length;
    int level;
};

struct kv_zset {
    struct kv_dict *dict;
    struct kv_zsl zsl;
};

/* A score interval, "(" marking an open end. */
struct kv_zrange_score {
    double min, max;
    bool minex, maxex;
};

/* A lex interval; min/max NULL with *_inf = -1 ("-") or +1 ("+"). */
struct kv_zrange_lex {
    const struct kv_str *min, *max;
    int min_inf, max_inf;
    bool minex, maxex;
};

/* t_zset_skiplist.c */
void kv_zsl_init(struct kv_zsl *zsl);
void kv_zsl_free_nodes(struct kv_zsl *zsl);
struct kv_zsl_node *kv_zsl_insert(struct kv_zsl *zsl, double score, struct kv_str *ele);
bool kv_zsl_delete(struct kv_zsl *zsl, double score, const struct kv_str *ele);
/* Moves ele from cur to score (in place when the order stays). */
struct kv_zsl_node *kv_zsl_update_score(struct kv_zsl *zsl, double cur, const struct kv_str *ele,
                                        double score);
/* 1-based rank of (score, ele), 0 when absent. */
uint64_t kv_zsl_rank(const struct kv_zsl *zsl, double score, const struct kv_str *ele);
struct kv_zsl_node *kv_zsl_by_rank(const struct kv_zsl *zsl, uint64_t rank);  /* 1-based */
struct kv_zsl_node *kv_zsl_first_in_score(const struct kv_zsl *zsl, const struct kv_zrange_score *r);
struct kv_zsl_node *kv_zsl_last_in_score(const struct kv_zsl *zsl, const struct kv_zrange_score *r);
struct kv_zsl_node *kv_zsl_first_in_lex(const struct kv_zsl *zsl, const struct kv_zrange_lex *r);
struct kv_zsl_node *kv_zsl_last_in_lex(const struct kv_zsl *zsl, const struct kv_zrange_lex *r);
bool kv_zrange_score_gte_min(double v, const struct kv_zrange_score *r);
bool kv_zrange_score_lte_max(double v, const struct kv_zrange_score *r);
bool kv_zrange_lex_gte_min(const struct kv_str *v, const struct kv_zrange_lex *r);
bool kv_zrange_lex_lte_max(const struct kv_str *v, const struct kv_zrange_lex *r);

/* t_zset_range.c: Redis's zslParseRange / zslParseLexRange (false: invalid). */
bool kv_zrange_parse_score(const struct kv_str *min, const struct kv_str *max,
                           struct kv_zrange_score *r);
bool kv_zrange_parse_lex(const struct kv_str *min, const struct kv_str *max,
                         struct kv_zrange_lex *r);

/* t_zset.c: the value and its changes. */
struct kv_zset *kv_zset_new(void);
void kv_zset_free(struct kv_zset *zs);
uint64_t kv_zset_length(const struct kv_zset *zs);
/* Adds or updates member (Redis's zsetAdd): NOP when NX/XX/GT/LT refuse,
 * SAME when the score is already that one, NAN when the score (or INCR's
 * sum) is NaN; *newscore is set unless NOP or NAN. */
#define KV_ZADD_NX 1
#define KV_ZADD_XX 2
#define KV_ZADD_GT 4
#define KV_ZADD_LT 8
#define KV_ZADD_INCR 16
enum kv_zadd_result { KV_ZADD_NOP, KV_ZADD_ADDED, KV_ZADD_UPDATED, KV_ZADD_SAME, KV_ZADD_NAN };
enum kv_zadd_result kv_zset_add(struct kv_zset *zs, double score, const struct kv_str *member,
                                int flags, double *newscore);
bool kv_zset_remove(struct kv_zset *zs, const struct kv_str *member);
/* Removes member through the node it has (ZPOP*, ZREMRANGE*). */
void kv_zset_remove_node(struct kv_zset *zs, struct kv_zsl_node *n);

/* Redis's "min or max is not a float" / lex errors. */
#define KV_ZERR_MINMAX_FLOAT "min or max is not a float"
#define KV_ZERR_MINMAX_LEX "min or max not valid string range item"

/* Commands defined in t_zset_range.c and t_zset_store.c (the table is in
 * t_zset.c). */
enum kv_zrange_by { KV_ZRANGE_RANK, KV_ZRANGE_SCORE, KV_ZRANGE_LEX };
void kv_cmd_zrange(struct kv_client *c);
void kv_cmd_zrevrange(struct kv_client *c);
void kv_cmd_zrangebyscore(struct kv_client *c);
void kv_cmd_zrevrangebyscore(struct kv_client *c);
void kv_cmd_zrangebylex(struct kv_client *c);
void kv_cmd_zrevrangebylex(struct kv_client *c);
void kv_cmd_zcount(struct kv_client *c);
void kv_cmd_zlexcount(struct kv_client *c);
void kv_cmd_zremrangebyrank(struct kv_client *c);
void kv_cmd_zremrangebyscore(struct kv_client *c);
void kv_cmd_zremrangebylex(struct kv_client *c);
void kv_cmd_zunionstore(struct kv_client *c);
void kv_cmd_zinterstore(struct kv_client *c);

#endif
